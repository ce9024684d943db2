//! Polling mode: `getUpdates` long polling for bots without a public URL. Updates are kept as
//! raw JSON (unknown kinds keep their content), published one by one, and the offset, stored
//! in the ingress KV bucket, advances only after every update of a batch was stored.

use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use runtime::config::{Secret, TelegramSettings};
use runtime::telegram::redact;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::publish::Publisher;
use crate::update_id;

const OFFSET_KEY: &str = "polling_offset";
const LONG_POLL_SECS: u64 = 25;

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Vec<Box<RawValue>>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

/// Long-polls Telegram until `stop` resolves.
pub struct Poller {
    http: reqwest::Client,
    url: String,
    token: Secret,
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(LONG_POLL_SECS + 10))
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("{}/bot{}/getUpdates", tg.api_url, tg.bot_token.expose());
        Ok(Self {
            http,
            url,
            token: tg.bot_token.clone(),
            state,
            publisher,
        })
    }

    /// `getUpdates` is refused (409) while a webhook is set: a bot moved from webhook to
    /// polling clears it once at start, keeping the updates Telegram holds.
    pub async fn clear_webhook(&self) {
        let url = self.url.replace("/getUpdates", "/deleteWebhook");
        let body = serde_json::json!({"drop_pending_updates": false});
        match self.http.post(url).json(&body).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!("polling mode: any webhook was removed (deleteWebhook)")
            }
            Ok(r) => tracing::warn!(status = %r.status(), "deleteWebhook refused"),
            Err(e) => {
                tracing::warn!(error = %redact(&e.to_string(), &self.token), "deleteWebhook failed")
            }
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
                tracing::warn!(error = %redact(&e, &self.token), "polling failed; retrying");
                Duration::from_secs(2)
            }
        }
    }

    async fn try_poll(&self) -> Result<Duration, String> {
        let offset = self.offset().await?;
        let body = serde_json::json!({"offset": offset, "timeout": LONG_POLL_SECS, "limit": 100});
        let resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let answer: Answer = resp
            .json()
            .await
            .map_err(|e| format!("getUpdates answer: {e}"))?;
        if !answer.ok {
            let retry = answer.parameters.and_then(|p| p.retry_after).unwrap_or(5);
            tracing::warn!(description = %answer.description, retry, "getUpdates refused");
            return Ok(Duration::from_secs(retry));
        }
        let mut next = offset;
        for raw in &answer.result {
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
