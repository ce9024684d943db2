//! fn-ingress: the front door. Telegram updates arrive by webhook (`POST /webhook`) or by
//! `getUpdates` long polling, are checked just enough to be safe (secret, size, an integer
//! `update_id`), and are published raw to the UPDATES stream with `Nats-Msg-Id` derived from
//! the update id. Telegram only hears "OK" once JetStream has stored the update.

pub mod polling;
pub mod publish;
pub mod webhook;

use runtime::app::broker;
use runtime::config::{ConfigError, Env, Secret, TelegramSettings};
use runtime::nats::broker::NatsSettings;
use runtime::nats::topology::INGRESS;
use runtime::runner::serve;

use crate::polling::Poller;
use crate::publish::Publisher;

/// How updates reach us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Telegram POSTs to us.
    Webhook,
    /// We call `getUpdates`.
    Polling,
}

/// fn-ingress settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// NATS servers, user, replicas, job status lifetime.
    pub nats: NatsSettings,
    /// Webhook or polling.
    pub mode: Mode,
    /// Listen address of the webhook server (also serves `/healthz` in polling mode).
    pub addr: String,
    /// Compared with `X-Telegram-Bot-Api-Secret-Token` (webhook mode).
    pub webhook_secret: Secret,
    /// Largest accepted update body.
    pub max_body_bytes: usize,
    /// Bot API access (polling mode).
    pub telegram: Option<TelegramSettings>,
    /// Where `/healthz`, `/readyz` and `/metrics` are served (`OPS_ADDR`; empty: nowhere).
    pub ops_addr: String,
}

impl Settings {
    /// Reads and validates the environment, listing every problem.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = Env::from_process();
        let s = Self::read(&mut env);
        env.finish()?;
        Ok(s)
    }

    /// Reads settings; problems go into `env`.
    pub fn read(env: &mut Env) -> Self {
        let mode = match env.string("INGRESS_MODE", "webhook").as_str() {
            "webhook" => Mode::Webhook,
            "polling" => Mode::Polling,
            other => {
                env.problem(format!(
                    "INGRESS_MODE={other:?} must be `webhook` or `polling`"
                ));
                Mode::Webhook
            }
        };
        let webhook_secret = match mode {
            Mode::Webhook => env.secret("TELEGRAM_WEBHOOK_SECRET"),
            Mode::Polling => env.optional_secret("TELEGRAM_WEBHOOK_SECRET"),
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if !webhook_secret.is_empty()
            && (webhook_secret.expose().len() > 256 || !webhook_secret.expose().chars().all(valid))
        {
            env.problem("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -");
        }
        Self {
            nats: NatsSettings::read(env),
            mode,
            addr: env.string("INGRESS_ADDR", "127.0.0.1:8080"),
            webhook_secret,
            max_body_bytes: env.parse("MAX_UPDATE_BYTES", 1024 * 1024),
            telegram: (mode == Mode::Polling).then(|| TelegramSettings::read(env)),
            ops_addr: env.string("OPS_ADDR", ""),
        }
    }
}

/// Connects, finds (or, in development, declares) the topology, and serves the webhook (and polls, in polling mode)
/// until SIGTERM.
pub async fn run(s: Settings) -> Result<(), String> {
    let metrics = (!s.ops_addr.is_empty())
        .then(runtime::ops::recorder)
        .flatten();
    let (js, buckets) = broker(INGRESS, &s.nats).await?;
    runtime::ops::start(&s.ops_addr, metrics, None, &js, Vec::new());
    let publisher = Publisher::new(js.clone());
    let app = webhook::router(
        s.webhook_secret.clone(),
        publisher.clone(),
        s.max_body_bytes,
    );
    if s.mode == Mode::Polling {
        let tg = s.telegram.as_ref().ok_or("polling needs BOT_TOKEN")?;
        let state = buckets.ingress;
        let poller = Poller::new(tg, state, publisher)?;
        tokio::spawn(async move {
            poller.clear_webhook().await;
            loop {
                let wait = poller.poll_once().await;
                tokio::time::sleep(wait).await;
            }
        });
    }
    tracing::info!(mode = ?s.mode, "accepting updates");
    serve(INGRESS, app, &s.addr)
        .await
        .map_err(|e| e.to_string())
}

/// Reads the `update_id` of a body that must be a JSON object with an integer `update_id`.
pub fn update_id(body: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Probe {
        update_id: i64,
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    serde_json::from_slice::<Probe>(body)
        .ok()
        .map(|p| p.update_id)
        .filter(|id| *id >= 0)
}

#[cfg(test)]
mod tests {
    use super::update_id;

    #[test]
    fn only_objects_with_integer_update_ids_pass() {
        assert_eq!(update_id(br#"{"update_id": 42, "message": {}}"#), Some(42));
        assert_eq!(update_id(br#"{"update_id": "42"}"#), None);
        assert_eq!(update_id(br#"{"update_id": 4.5}"#), None);
        assert_eq!(update_id(br#"[42]"#), None);
        assert_eq!(update_id(br#"{"message": {}}"#), None);
        assert_eq!(update_id(b"\xff\xfe"), None);
    }
}
