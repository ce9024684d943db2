//! Chat actions ("typing…", "sending a photo…") on their own lane: never awaited in the slot
//! of the send job that carries them, so a slow Telegram cannot fill fn-send's slots with
//! them while answers wait; at most one in flight per chat (a newer one for a busy chat is
//! dropped); dropped when stale (Telegram shows one for 5 s) or while the whole bot is in a
//! flood wait (read from the database at most once a [`PAUSE_FRESH`], not once per action:
//! an action is best effort, a round trip per answer is not); a short timeout of their own.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runtime::telegram::BotApi;
use sqlx::PgPool;
use tokio::sync::Semaphore;

/// Older than this, an action shows nothing useful any more.
const STALE: Duration = Duration::from_secs(4);
/// One action call may take this long.
pub const TIMEOUT: Duration = Duration::from_secs(3);
/// Actions in flight at once, across chats.
const LANE: usize = 64;
/// How long the bot-wide flood wait read from the database is taken as current.
const PAUSE_FRESH: Duration = Duration::from_secs(1);

/// The lane.
#[derive(Clone)]
pub struct Actions {
    api: BotApi,
    pool: PgPool,
    busy: Arc<Mutex<HashSet<i64>>>,
    slots: Arc<Semaphore>,
    /// The flood wait as last read, and when.
    pause: Arc<Mutex<Option<(bool, Instant)>>>,
}

impl Actions {
    /// A lane calling the Bot API with `api` (built with [`TIMEOUT`]).
    pub fn new(api: BotApi, pool: PgPool) -> Self {
        Self {
            api,
            pool,
            busy: Arc::default(),
            slots: Arc::new(Semaphore::new(LANE)),
            pause: Arc::default(),
        }
    }

    /// Shows `action` in `chat` in the background, unless it is stale, the chat has one in
    /// flight, or the lane is full. Returns whether it went.
    pub fn show(&self, chat: i64, action: &str, asked_at_ms: Option<i64>) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        if asked_at_ms.is_some_and(|at| now - at > STALE.as_millis() as i64) {
            tracing::debug!(chat_id = chat, "chat action stale; dropped");
            return false;
        }
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return false;
        };
        if !self.busy.lock().expect("lane lock").insert(chat) {
            return false;
        }
        let (lane, action) = (self.clone(), action.to_owned());
        tokio::spawn(async move {
            if !lane.paused().await {
                let params = serde_json::json!({"chat_id": chat, "action": action});
                if let Err(e) = lane.api.call("sendChatAction", &params, None).await {
                    tracing::debug!(error = %e, "chat action not shown");
                }
            }
            lane.busy.lock().expect("lane lock").remove(&chat);
            drop(slot);
        });
        true
    }

    /// This copy just stored a flood wait for the whole bot: no action goes until it is read
    /// again.
    pub fn paused_now(&self) {
        *self.pause.lock().expect("pause lock") = Some((true, Instant::now()));
    }

    /// Whether the whole bot is in a flood wait (as read within the last [`PAUSE_FRESH`]).
    async fn paused(&self) -> bool {
        let known = *self.pause.lock().expect("pause lock");
        if let Some((paused, at)) = known
            && at.elapsed() < PAUSE_FRESH
        {
            return paused;
        }
        let paused = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM send_pace
                            WHERE key = 'global' AND paused_until > clock_timestamp())",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap_or(false);
        *self.pause.lock().expect("pause lock") = Some((paused, Instant::now()));
        paused
    }
}
