//! `chat`: a terminal Telegram client for the local stand-in. Type as a Telegram user; the
//! bot's messages, buttons and photos (saved as files) appear below. A number presses the
//! button with that number; `/quit` leaves.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;
use standins::telegram::Call;
use standins::updates::{self, User};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let base =
        std::env::var("STANDIN_TELEGRAM_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into());
    let user_id: i64 = std::env::var("CHAT_USER_ID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_001);
    let user = User::new(
        user_id,
        &std::env::var("USER").unwrap_or_else(|_| "Alex".into()),
    );
    let http = reqwest::Client::new();
    println!(
        "Chatting with the bot as {} (id {user_id}). Try /start. A number presses a button; /quit leaves.\n",
        user.first_name
    );
    let mut seen = http
        .get(format!("{base}/_calls"))
        .send()
        .await?
        .json::<Vec<Call>>()
        .await?
        .len();
    let mut buttons: Vec<(String, i64)> = Vec::new();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut message_id = 1;
    prompt();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                let line = line.trim().to_owned();
                if line == "/quit" { break }
                if line.is_empty() { prompt(); continue }
                let update = match line.parse::<usize>().ok().and_then(|n| buttons.get(n.wrapping_sub(1))) {
                    Some((data, under)) => updates::callback(0, &user, *under, data),
                    None => { message_id += 1; updates::text(0, message_id, &user, &line) }
                };
                let mut update = update;
                update.as_object_mut().map(|o| o.remove("update_id"));
                let r: Value = http.post(format!("{base}/_deliver")).json(&update).send().await?.json().await?;
                if r["status"] != 200 {
                    println!("  (the bot's webhook answered {}: is fn-ingress running?)", r["status"]);
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                let calls: Vec<Call> = match http.get(format!("{base}/_calls?since={seen}")).send().await {
                    Ok(r) => r.json().await.unwrap_or_default(),
                    Err(_) => continue,
                };
                seen += calls.len();
                let shown: Vec<_> = calls.iter().filter(|c| c.params["chat_id"] == user_id || c.method == "answercallbackquery").collect();
                for c in &shown { show(c, &mut buttons); }
                if !shown.is_empty() { prompt(); }
            }
        }
    }
    Ok(())
}

fn prompt() {
    print!("you › ");
    let _ = std::io::stdout().flush();
}

fn show(c: &Call, buttons: &mut Vec<(String, i64)>) {
    let message_id = c.result["message_id"].as_i64().unwrap_or(0);
    match c.method.as_str() {
        "sendmessage" => println!(
            "\rbot › {}",
            c.params["text"]
                .as_str()
                .unwrap_or("")
                .replace('\n', "\n      ")
        ),
        "sendphoto" => println!(
            "\rbot › 📷 photo {}×{} saved to {}",
            c.result["photo"][0]["width"],
            c.result["photo"][0]["height"],
            c.params["photo"]["path"].as_str().unwrap_or("?")
        ),
        "answercallbackquery" => {
            if let Some(t) = c.params["text"].as_str() {
                println!("\rbot (pop-up) › {t}");
            }
            return;
        }
        _ => return,
    }
    let rows = c.params["reply_markup"]["inline_keyboard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let labels: Vec<(String, String)> = rows
        .iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .filter_map(|b| {
            Some((
                b["text"].as_str()?.to_owned(),
                b["callback_data"].as_str()?.to_owned(),
            ))
        })
        .collect();
    if !labels.is_empty() {
        buttons.clear();
        for (i, (label, data)) in labels.into_iter().enumerate() {
            println!("      [{}] {label}", i + 1);
            buttons.push((data, message_id));
        }
    }
}
