//! Telegram Bot API stand-in. Serves `POST /bot<token>/<method>` (JSON, form or multipart, any
//! method-name case) for the methods the bot uses, answering in Telegram's envelope
//! (`{"ok":true,"result":…}`); records every call; serves `getUpdates` long polling; delivers
//! simulated user updates to a webhook; and can be told to fail the next calls (e.g. 429 with
//! `retry_after`). Control routes start with `/_`.

mod methods;
mod params;
mod refusal;
mod rules;
mod strict;
mod voice;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// One recorded Bot API call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    /// Position in the log, from 0.
    pub seq: usize,
    /// Method name in lower case (`sendmessage`).
    pub method: String,
    /// Parameters; uploaded files appear as `{"file_name", "size", "path"}`.
    pub params: serde_json::Value,
    /// The `result` answered, if the call succeeded.
    pub result: serde_json::Value,
    /// When it arrived, in microseconds since the stand-in started.
    #[serde(default)]
    pub at_us: u64,
}

/// A failure to answer instead of the next call of `method`.
#[derive(Debug, Clone, Deserialize)]
pub struct Failure {
    /// Lower-case method name.
    pub method: String,
    /// `error_code`.
    pub error_code: u16,
    /// `description`.
    pub description: String,
    /// `parameters.retry_after`.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Let this many calls of the method through first.
    #[serde(default)]
    pub after: usize,
}

/// Where simulated user updates go.
#[derive(Debug, Clone, Default)]
pub struct Webhook {
    /// URL to POST updates to.
    pub url: String,
    /// Value of `X-Telegram-Bot-Api-Secret-Token`.
    pub secret: String,
}

/// Shared state of the stand-in.
pub struct Telegram {
    calls: Mutex<Vec<Call>>,
    failures: Mutex<VecDeque<Failure>>,
    pending: Mutex<VecDeque<serde_json::Value>>,
    webhook: Mutex<Option<Webhook>>,
    next_message_id: AtomicI64,
    next_update_id: AtomicI64,
    next_file: std::sync::atomic::AtomicU64,
    files_dir: PathBuf,
    changed: Notify,
    started: std::time::Instant,
    feed: tokio::sync::broadcast::Sender<Call>,
    http: reqwest::Client,
    rules: Mutex<rules::Rules>,
    latency_ms: std::sync::atomic::AtomicU64,
    /// Until when every call is answered 502 Bad Gateway (an outage).
    outage: Mutex<Option<std::time::Instant>>,
    /// Methods whose calls take this long before they are answered.
    slow: Mutex<std::collections::HashMap<String, std::time::Duration>>,
}

fn first_update_id() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs.saturating_sub(1_700_000_000) * 16) as i64 % i64::from(i32::MAX)
}

impl Telegram {
    /// A stand-in saving uploaded files under `files_dir`.
    pub fn new(files_dir: PathBuf, webhook: Option<Webhook>) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::default(),
            failures: Mutex::default(),
            pending: Mutex::default(),
            webhook: Mutex::new(webhook),
            next_message_id: AtomicI64::new(1000),
            // Ids keep growing across restarts (as Telegram's do), so a persistent local
            // database never mistakes a new update for one it processed in an earlier run.
            next_update_id: AtomicI64::new(first_update_id()),
            next_file: std::sync::atomic::AtomicU64::new(0),
            files_dir,
            changed: Notify::new(),
            started: std::time::Instant::now(),
            feed: tokio::sync::broadcast::channel(1 << 16).0,
            http: reqwest::Client::new(),
            rules: Mutex::default(),
            latency_ms: std::sync::atomic::AtomicU64::new(0),
            outage: Mutex::default(),
            slow: Mutex::default(),
        })
    }

    /// Every Bot API call takes this long before it is answered, as a real Telegram does.
    pub fn set_latency(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Calls must carry this bot token (else 401, as Telegram answers).
    pub fn expect_token(&self, token: &str) {
        self.rules.lock().unwrap().token = Some(token.to_owned());
    }

    /// Remembers the chat (and callback query) of an update the bot is about to receive: the
    /// stand-in answers "chat not found" for chats it never saw.
    pub fn saw_update(&self, update: &serde_json::Value) {
        self.rules.lock().unwrap().saw_update(update);
    }

    /// The user blocks (`true`) or unblocks the bot: sends get 403.
    pub fn block(&self, chat: i64, blocked: bool) {
        self.rules.lock().unwrap().block(chat, blocked);
    }

    /// The user deletes one of the bot's messages (later edits of it are refused).
    pub fn delete_message(&self, chat: i64, message_id: i64) {
        self.rules.lock().unwrap().delete_message(chat, message_id);
    }

    /// The chat is gone (deleted account): sends get "chat not found".
    pub fn forget_chat(&self, chat: i64) {
        self.rules.lock().unwrap().forget(chat);
    }

    /// Per-chat flood control: more than `burst` sends within `burst / per_sec` seconds get a
    /// 429 with `retry_after`, as Telegram does; `None` turns it off.
    pub fn flood_control(&self, limit: Option<(f64, usize)>) {
        self.rules.lock().unwrap().flood = limit;
    }

    /// Calls for `chat` take `d` before they are answered (`None`: answer at once).
    pub fn hang(&self, chat: i64, d: Option<std::time::Duration>) {
        let mut r = self.rules.lock().unwrap();
        match d {
            Some(d) => r.hang.insert(chat, d),
            None => r.hang.remove(&chat),
        };
    }

    /// Telegram is down for `d` from now: every call gets 502 Bad Gateway, as Telegram's
    /// front ends answer during an outage.
    pub fn outage(&self, d: std::time::Duration) {
        *self.outage.lock().unwrap() = Some(std::time::Instant::now() + d);
    }

    /// Whether an outage is on now.
    pub fn down(&self) -> bool {
        self.outage
            .lock()
            .unwrap()
            .is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Calls of `method` (lower case) take `d` before they are answered (`None`: at once).
    pub fn slow_method(&self, method: &str, d: Option<std::time::Duration>) {
        let mut slow = self.slow.lock().unwrap();
        match d {
            Some(d) => slow.insert(method.to_owned(), d),
            None => slow.remove(method),
        };
    }

    /// The router.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(
                "/{bot}/{method}",
                post(methods::dispatch).get(methods::dispatch),
            )
            .route("/file/{bot}/{*path}", get(voice::download))
            .route("/_calls", get(methods::calls))
            .route("/_voice", post(voice::record))
            .route("/_fail", post(methods::fail))
            .route("/_deliver", post(methods::deliver))
            .with_state(self.clone())
    }

    /// Every call from now on, as it arrives (for load generators that cannot re-read the log).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Call> {
        self.feed.subscribe()
    }

    /// Microseconds since the stand-in started, the clock of [`Call::at_us`].
    pub fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Calls of one method (lower case).
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// Queues a failure for the next call of its method.
    pub fn fail_next(&self, f: Failure) {
        self.failures.lock().unwrap().push_back(f);
    }

    /// A fresh update id for simulated updates.
    pub fn next_update_id(&self) -> i64 {
        self.next_update_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits until the call log changes (or a short timeout passes).
    pub async fn changed(&self) {
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            self.changed.notified(),
        )
        .await;
    }

    /// Delivers an update: to the webhook when one is set (returns its HTTP status), else
    /// queues it for `getUpdates` (returns 200).
    pub async fn deliver(&self, update: serde_json::Value) -> u16 {
        self.saw_update(&update);
        let hook = self.webhook.lock().unwrap().clone();
        match hook {
            Some(h) => match self
                .http
                .post(&h.url)
                .header("x-telegram-bot-api-secret-token", &h.secret)
                .json(&update)
                .send()
                .await
            {
                Ok(r) => r.status().as_u16(),
                Err(_) => 502,
            },
            None => {
                self.pending.lock().unwrap().push_back(update);
                self.changed.notify_waiters();
                200
            }
        }
    }
}
