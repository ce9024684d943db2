//! Load through the whole pipeline: webhook updates accepted per second, complete text turns
//! (webhook → `sendMessage` at the stand-in) with many users typing at once, and photos.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::oneshot;

use crate::llm::answer_for;
use crate::system::System;
use crate::telegram::Call;
use crate::updates::{self, User};

/// First user id of the simulated users.
pub const FIRST_USER: i64 = 1_000_000;

/// One finished turn.
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// Webhook accepted → `sendMessage` received.
    pub total: Duration,
    /// Time spent inside the stand-in LLM.
    pub llm: Duration,
}

/// Creates `users` adult-confirmed users, each with an open dialog; returns their dialog ids.
pub async fn seed(sys: &System, users: i64) -> anyhow::Result<HashMap<i64, i64>> {
    let pool = sys.pool().await?;
    let girl: i32 =
        sqlx::query_scalar("SELECT id FROM girls WHERE is_active ORDER BY sort_order, id LIMIT 1")
            .fetch_one(&pool)
            .await?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "WITH u AS (
             INSERT INTO users (id, first_name, age_confirmed_at, current_girl_id)
             SELECT $1 + g, 'Bench', now(), $3 FROM generate_series(0, $2 - 1) g RETURNING id),
         d AS (INSERT INTO dialogs (user_id, girl_id, image_seed) SELECT id, $3, id FROM u RETURNING id, user_id),
         s AS (INSERT INTO user_selected_girls (user_id, girl_id, active_dialog_id) SELECT user_id, $3, id FROM d)
         SELECT user_id, id FROM d",
    )
    .bind(FIRST_USER)
    .bind(users)
    .bind(girl)
    .fetch_all(&pool)
    .await?;
    sqlx::query("INSERT INTO user_retention (user_id) SELECT id FROM users WHERE id >= $1")
        .bind(FIRST_USER)
        .execute(&pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Posts `count` updates the bot ignores (edited messages) from `senders` concurrent senders;
/// returns accepted updates per second.
pub async fn webhook_rate(sys: &System, count: usize, senders: usize) -> anyhow::Result<f64> {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut inflight = FuturesUnordered::new();
    for i in 0..count {
        let mut u = updates::text(
            sys.tg.next_update_id(),
            i as i64,
            &User::new(FIRST_USER - 1, "Edit"),
            "edited",
        );
        u["edited_message"] = u["message"].take();
        u.as_object_mut().expect("object").remove("message");
        let req = http
            .post(&sys.webhook_url)
            .header("x-telegram-bot-api-secret-token", &sys.secret)
            .json(&u)
            .send();
        inflight.push(req);
        if inflight.len() >= senders
            && let Some(r) = inflight.next().await
        {
            anyhow::ensure!(r?.status() == 200, "webhook refused an update");
        }
    }
    while let Some(r) = inflight.next().await {
        anyhow::ensure!(r?.status() == 200, "webhook refused an update");
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Turns waiting for a call, keyed by (chat, text) or (chat, "photo").
pub type Waiters = Arc<Mutex<HashMap<(i64, String), oneshot::Sender<Call>>>>;

/// Routes calls Telegram accepted to the turns waiting for them, keyed by (chat, text) for
/// messages and (chat, "photo") for photos.
pub fn dispatcher(sys: &System) -> Waiters {
    let waiters: Waiters = Arc::default();
    let mut feed = sys.tg.subscribe();
    let w = waiters.clone();
    tokio::spawn(async move {
        while let Ok(call) = feed.recv().await {
            if call.result.is_null() {
                continue;
            }
            let chat = call.params["chat_id"].as_i64().unwrap_or(0);
            let key = match call.method.as_str() {
                "sendmessage" | "editmessagetext" => {
                    call.params["text"].as_str().unwrap_or("").to_owned()
                }
                "sendphoto" => "photo".to_owned(),
                _ => continue,
            };
            if let Some(tx) = w.lock().unwrap().remove(&(chat, key)) {
                let _ = tx.send(call);
            }
        }
    });
    waiters
}

/// Every user sends `turns` messages, one after the other's answer, all users at once. With
/// `rotate`, each of a session's turns comes from another user (a user writing faster than
/// Telegram's one message a second per chat would measure fn-send's pacing, not the pipeline).
/// Returns the turns and the wall time.
pub async fn text_turns(
    sys: &System,
    users: i64,
    turns: usize,
    rotate: bool,
) -> anyhow::Result<(Vec<Turn>, Duration)> {
    let waiters = dispatcher(sys);
    let started = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for u in 0..users {
        let (waiters, user) = (waiters.clone(), User::new(FIRST_USER + u, "Bench"));
        tasks.push(async move {
            let mut done = Vec::with_capacity(turns);
            for t in 0..turns {
                let user = match rotate {
                    true => User::new(FIRST_USER + u + t as i64 * users, "Bench"),
                    false => user.clone(),
                };
                let text = format!("u{} t{t}", user.id);
                let (tx, rx) = oneshot::channel();
                waiters
                    .lock()
                    .unwrap()
                    .insert((user.id, answer_for(&text)), tx);
                let update = updates::text(sys.tg.next_update_id(), t as i64 + 1, &user, &text);
                anyhow::ensure!(
                    sys.post_update(&update).await == 200,
                    "webhook refused a turn"
                );
                let accepted = sys.tg.now_us();
                let call = tokio::time::timeout(Duration::from_secs(60), rx).await??;
                let total = Duration::from_micros(call.at_us.saturating_sub(accepted));
                let llm = sys.llm.time_of(&text).unwrap_or_default();
                done.push(Turn { total, llm });
            }
            Ok::<_, anyhow::Error>(done)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.next().await {
        all.extend(r?);
    }
    Ok((all, started.elapsed()))
}

/// `count` users each press the photo button once; returns photos per second.
pub async fn photos(
    sys: &System,
    dialogs: &HashMap<i64, i64>,
    count: usize,
) -> anyhow::Result<f64> {
    let waiters = dispatcher(sys);
    let started = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for (&user_id, &dialog) in dialogs.iter().take(count) {
        let waiters = waiters.clone();
        tasks.push(async move {
            let (tx, rx) = oneshot::channel();
            waiters
                .lock()
                .unwrap()
                .insert((user_id, "photo".to_owned()), tx);
            let u = updates::callback(
                sys.tg.next_update_id(),
                &User::new(user_id, "Bench"),
                1,
                &format!("photo:{dialog}"),
            );
            anyhow::ensure!(
                sys.post_update(&u).await == 200,
                "webhook refused a photo press"
            );
            tokio::time::timeout(Duration::from_secs(120), rx).await??;
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.next().await {
        r?;
    }
    Ok(count.min(dialogs.len()) as f64 / started.elapsed().as_secs_f64())
}
