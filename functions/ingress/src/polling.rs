//! Polling mode: `getUpdates` long polling for bots without a public URL. Updates are kept as
//! raw JSON (unknown kinds keep their content), published one by one, and the offset, stored
//! in the ingress KV bucket, advances only after every update of a batch was stored.

use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use runtime::config::TelegramSettings;
use runtime::telegram::{BotApi, Failure};

use crate::publish::Publisher;
use crate::update_id;

const OFFSET_KEY: &str = "polling_offset";
const LONG_POLL: Duration = Duration::from_secs(25);
/// Bounds every call; a long poll is given [`LONG_POLL`] on top.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// After a refusal that names no wait (a webhook still set, a bad token, a 5xx answer).
const REFUSED_WAIT: Duration = Duration::from_secs(5);
/// After a call that brought no answer (the network, a garbled body, the KV store).
const FAILED_WAIT: Duration = Duration::from_secs(2);

/// Long-polls Telegram until `stop` resolves.
pub struct Poller {
    api: BotApi,
    state: kv::Store,
    publisher: Publisher,
}

impl Poller {
    /// Builds a poller for the configured bot.
    pub fn new(
        tg: &TelegramSettings,
        state: kv::Store,
        publisher: Publisher,
    ) -> Result<Self, String> {
        Ok(Self {
            api: BotApi::new(tg, CALL_TIMEOUT)?,
            state,
            publisher,
        })
    }

    /// `getUpdates` is refused (409) while a webhook is set: a bot moved from webhook to
    /// polling clears it once at start, keeping the updates Telegram holds.
    pub async fn clear_webhook(&self) {
        let body = serde_json::json!({"drop_pending_updates": false});
        match self.api.call("deleteWebhook", &body, None).await {
            Ok(_) => tracing::info!("polling mode: any webhook was removed (deleteWebhook)"),
            Err(e) => tracing::warn!(error = %e, "deleteWebhook failed"),
        }
    }

    async fn offset(&self) -> Result<i64, String> {
        let raw = self
            .state
            .get(OFFSET_KEY)
            .await
            .map_err(|e| e.to_string())?;
        Ok(raw
            .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
            .unwrap_or(0))
    }

    /// One `getUpdates` round; returns how long to wait before the next.
    pub async fn poll_once(&self) -> Duration {
        match self.try_poll().await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::warn!(error = %e, "polling failed; retrying");
                FAILED_WAIT
            }
        }
    }

    async fn try_poll(&self) -> Result<Duration, String> {
        let offset = self.offset().await?;
        let updates = match self.api.updates(offset, LONG_POLL, 100).await {
            Ok(updates) => updates,
            Err(Failure::Refused(r)) => {
                let retry = r.retry_after().unwrap_or(REFUSED_WAIT);
                tracing::warn!(description = %r.description, ?retry, "getUpdates refused");
                return Ok(retry);
            }
            Err(Failure::Unanswered(e)) => return Err(e),
        };
        let mut next = offset;
        for raw in &updates {
            let bytes = raw.get().as_bytes();
            let Some(id) = update_id(bytes) else {
                tracing::warn!("skipping an update without an integer update_id");
                continue;
            };
            self.publisher
                .publish(id, Bytes::copy_from_slice(bytes))
                .await
                .map_err(|e| e.to_string())?;
            next = next.max(id + 1);
        }
        if next != offset {
            self.state
                .put(OFFSET_KEY, next.to_string().into())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(Duration::ZERO)
    }
}
