//! `chat`: a terminal Telegram client for the local stand-in. Type as a Telegram user; the
//! bot's messages, buttons and photos (saved as files, their captions shown) appear below, and an answer that is
//! streamed by edits appears once it is complete. A number presses the button with that
//! number; `#voice <words>` sends a voice note saying them (heard when speech to text is
//! configured; the bot's voice notes show as "🔊 [voice note]"); `/quit` (or the end of the
//! input) leaves.
//!
//! Scripted input (what `make run`'s end-to-end test feeds it) may also say
//! `#expect <text>` — wait until the bot shows something containing the text — and
//! `#press <label>` — wait for a button whose label contains the text and press it. Either
//! gives up after `CHAT_EXPECT_SECS` (60) and exits with status 1, saying what it waited for.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;
use standins::telegram::Call;
use standins::updates::{self, User};
use tokio::io::{AsyncBufReadExt, BufReader};

/// A streamed answer's text ends with this while it is still being written.
const CURSOR: char = '▌';

/// What the bot has shown so far, and the buttons it offers now.
#[derive(Default)]
struct Screen {
    shown: Vec<String>,
    /// Label, callback data, the message they are under.
    buttons: Vec<(String, String, i64)>,
    /// How much of `shown` an `#expect` has already matched.
    matched: usize,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let base =
        std::env::var("STANDIN_TELEGRAM_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into());
    let user_id: i64 = std::env::var("CHAT_USER_ID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_001);
    let patience = Duration::from_secs(
        std::env::var("CHAT_EXPECT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60),
    );
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
    let mut screen = Screen::default();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    // Telegram's message ids only grow: start from the clock, so a second run on the same
    // database never reuses one (within i32, as Telegram's ids are).
    let mut message_id = (chrono::Utc::now().timestamp() - 1_700_000_000) * 8;
    // A scripted wait in progress: what it looks for, whether it presses, and since when.
    let mut waiting: Option<(String, bool, Instant)> = None;
    prompt();
    loop {
        if let Some((what, press, since)) = &waiting {
            let found = if *press {
                screen
                    .buttons
                    .iter()
                    .rev()
                    .find(|(label, _, _)| label.contains(what.as_str()))
                    .map(|(_, data, under)| (data.clone(), *under))
                    .map(Some)
            } else {
                screen.expect(what).then_some(None)
            };
            match found {
                Some(Some((data, under))) => {
                    println!("(pressing {what:?})");
                    waiting = None;
                    let update = updates::callback(0, &user, under, &data);
                    deliver(&http, &base, update).await?;
                }
                Some(None) => waiting = None,
                None if since.elapsed() > patience => {
                    let kind = if *press { "a button" } else { "a message" };
                    eprintln!("chat: gave up waiting for {kind} with {what:?}");
                    std::process::exit(1);
                }
                None => {}
            }
        }
        tokio::select! {
            line = lines.next_line(), if waiting.is_none() => {
                let Some(line) = line? else { break };
                let line = line.trim().to_owned();
                if line == "/quit" { break }
                if line.is_empty() { prompt(); continue }
                if let Some(what) = line.strip_prefix("#expect ") {
                    waiting = Some((what.to_owned(), false, Instant::now()));
                    continue;
                }
                if let Some(what) = line.strip_prefix("#press ") {
                    waiting = Some((what.to_owned(), true, Instant::now()));
                    continue;
                }
                if let Some(words) = line.strip_prefix("#voice ") {
                    message_id += 1;
                    let v: Value = http.post(format!("{base}/_voice"))
                        .json(&serde_json::json!({"text": words})).send().await?.json().await?;
                    let file = (v["file_id"].as_str().unwrap_or(""), v["file_unique_id"].as_str().unwrap_or(""));
                    let (secs, size) = (v["seconds"].as_u64().unwrap_or(1) as u32, v["size"].as_u64().unwrap_or(0) as usize);
                    println!("(🎤 [voice note, {secs} s])");
                    deliver(&http, &base, updates::voice(0, message_id, &user, file, secs, size)).await?;
                    continue;
                }
                let pressed = line.parse::<usize>().ok().and_then(|n| screen.buttons.get(n.wrapping_sub(1)));
                let update = match pressed {
                    Some((_, data, under)) => updates::callback(0, &user, *under, data),
                    None => { message_id += 1; updates::text(0, message_id, &user, &line) }
                };
                deliver(&http, &base, update).await?;
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                let calls: Vec<Call> = match http.get(format!("{base}/_calls?since={seen}")).send().await {
                    Ok(r) => r.json().await.unwrap_or_default(),
                    Err(_) => continue,
                };
                seen += calls.len();
                let shown = calls
                    .iter()
                    .filter(|c| c.result != Value::Null)
                    .filter(|c| c.params["chat_id"] == user_id || c.method == "answercallbackquery")
                    .filter(|c| screen.show(c))
                    .count();
                if shown > 0 { prompt(); }
            }
        }
    }
    Ok(())
}

/// Hands an update to the stand-in, which gives it the next update id and posts it to the
/// bot's webhook.
async fn deliver(http: &reqwest::Client, base: &str, mut update: Value) -> anyhow::Result<()> {
    update.as_object_mut().map(|o| o.remove("update_id"));
    let r: Value = http
        .post(format!("{base}/_deliver"))
        .json(&update)
        .send()
        .await?
        .json()
        .await?;
    if r["status"] != 200 {
        println!(
            "  (the bot's webhook answered {}: is fn-ingress running?)",
            r["status"]
        );
    }
    Ok(())
}

/// A photo's or file's caption (a persona's name, age and pitch under her picture), then what
/// was saved.
fn with_caption(c: &Call, saved: String) -> String {
    match c.params["caption"].as_str().filter(|t| !t.is_empty()) {
        Some(caption) => format!("{caption}\n{saved}"),
        None => saved,
    }
}

fn prompt() {
    print!("you › ");
    let _ = std::io::stdout().flush();
}

impl Screen {
    /// Whether something shown since the last match contains `what` (and marks it matched).
    fn expect(&mut self, what: &str) -> bool {
        match self.shown[self.matched..]
            .iter()
            .position(|s| s.contains(what))
        {
            Some(i) => {
                self.matched += i + 1;
                true
            }
            None => false,
        }
    }

    /// Prints a call the user would see; returns whether it printed anything.
    fn show(&mut self, c: &Call) -> bool {
        let message_id = c.result["message_id"].as_i64().unwrap_or(0);
        let text = |c: &Call| c.params["text"].as_str().unwrap_or("").to_owned();
        let line = match c.method.as_str() {
            "sendmessage" if text(c).ends_with(CURSOR) => return false,
            "sendmessage" => text(c),
            "editmessagetext" if text(c).ends_with(CURSOR) => return false,
            "editmessagetext" => text(c),
            "sendphoto" => with_caption(
                c,
                format!(
                    "📷 photo {}×{} saved to {}",
                    c.result["photo"][0]["width"],
                    c.result["photo"][0]["height"],
                    c.params["photo"]["path"]
                        .as_str()
                        .unwrap_or("(sent again by its file id)")
                ),
            ),
            "senddocument" => with_caption(
                c,
                format!(
                    "📄 file saved to {}",
                    c.params["document"]["path"].as_str().unwrap_or("?")
                ),
            ),
            "sendvoice" | "sendaudio" => format!(
                "🔊 [voice note] saved to {}",
                c.params["voice"]["path"]
                    .as_str()
                    .or(c.params["audio"]["path"].as_str())
                    .unwrap_or("(sent again by its file id)")
            ),
            "answercallbackquery" => match c.params["text"].as_str() {
                Some(t) => {
                    println!("\rbot (pop-up) › {t}");
                    self.shown.push(t.to_owned());
                    return true;
                }
                None => return false,
            },
            _ => return false,
        };
        println!("\rbot › {}", line.replace('\n', "\n      "));
        self.shown.push(line);
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
            self.buttons.clear();
            for (i, (label, data)) in labels.into_iter().enumerate() {
                println!("      [{}] {label}", i + 1);
                self.buttons.push((label, data, message_id));
            }
        }
        true
    }
}
