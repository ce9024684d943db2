//! The Bot API client used by fn-send, the one function that calls Telegram: any method with
//! JSON parameters (or multipart with one upload), answers read from Telegram's envelope and
//! sorted into what the sender must do (go on, wait `retry_after`, stop writing to a chat that
//! blocked the bot, retry later, give up). The bot token is part of every URL: it is redacted
//! from every message this module produces. Also the inline-keyboard shapes handlers use.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{Secret, TelegramSettings};

/// A row of inline buttons, each `(label, callback_data)`.
pub type ButtonRow = Vec<(String, String)>;

/// What a refused or failed call means for the sender.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TgError {
    /// 429: wait exactly this long.
    #[error("telegram asked to wait {0:?}")]
    RetryAfter(Duration),
    /// 403 blocked / deactivated, or 400 chat not found: the chat cannot be written to.
    #[error("chat unreachable: {0}")]
    Unreachable(String),
    /// An edit with the content the message already has: nothing to do.
    #[error("message is not modified")]
    NotModified,
    /// Network trouble, 5xx, a garbled answer, or our own token refused: try again later.
    #[error("telegram transient: {0}")]
    Transient(String),
    /// Telegram refused this request for good (bad parameters, too old a callback).
    #[error("telegram refused: {0}")]
    Permanent(String),
}

/// A file sent as a multipart part.
pub struct Upload {
    /// Parameter name (`photo`).
    pub field: &'static str,
    /// File name shown to the user.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A Bot API client that never leaks its token.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    base: String,
    token: Secret,
    timeout: Duration,
}

/// The slowest upload speed a call is given time for: an upload's call may take
/// [`upload_allowance`] longer than the call timeout (a 10 MB photo: 40 s more).
pub const UPLOAD_BYTES_PER_SEC: f64 = 262_144.0;

/// The time an upload of `bytes` is given on top of the call timeout.
pub fn upload_allowance(bytes: usize) -> Duration {
    Duration::from_secs_f64(bytes as f64 / UPLOAD_BYTES_PER_SEC)
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    error_code: u16,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<f64>,
}

impl BotApi {
    /// Builds the client; `timeout` bounds every call (an upload's, plus [`upload_allowance`]).
    pub fn new(settings: &TelegramSettings, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: settings.api_url.clone(),
            token: settings.bot_token.clone(),
            timeout,
        })
    }

    /// Calls `method`; returns Telegram's `result`. Timed as
    /// `companion_telegram_seconds{method}`; failures counted as
    /// `companion_telegram_errors_total{method, kind}` (`429`, `unreachable`, `transient`,
    /// `permanent`; an unchanged edit is not a failure).
    pub async fn call(
        &self,
        method: &str,
        params: &Value,
        upload: Option<Upload>,
    ) -> Result<Value, TgError> {
        let started = std::time::Instant::now();
        let answer = self.request(method, params, upload).await;
        let method = method.to_owned();
        metrics::histogram!("companion_telegram_seconds", "method" => method.clone())
            .record(started.elapsed().as_secs_f64());
        let kind = match &answer {
            Ok(_) | Err(TgError::NotModified) => None,
            Err(TgError::RetryAfter(_)) => Some("429"),
            Err(TgError::Unreachable(_)) => Some("unreachable"),
            Err(TgError::Transient(_)) => Some("transient"),
            Err(TgError::Permanent(_)) => Some("permanent"),
        };
        if let Some(kind) = kind {
            metrics::counter!("companion_telegram_errors_total", "method" => method, "kind" => kind)
                .increment(1);
        }
        answer
    }

    async fn request(
        &self,
        method: &str,
        params: &Value,
        upload: Option<Upload>,
    ) -> Result<Value, TgError> {
        let url = format!("{}/bot{}/{method}", self.base, self.token.expose());
        let mut req = self.http.post(url);
        if let Some(parent) = crate::telemetry::trace::current_parent() {
            req = req.header(crate::telemetry::trace::TRACEPARENT, parent);
        }
        let req = match upload {
            None => req.json(params),
            Some(up) => {
                let req = req.timeout(self.timeout + upload_allowance(up.bytes.len()));
                let mut form = reqwest::multipart::Form::new().part(
                    up.field,
                    reqwest::multipart::Part::bytes(up.bytes).file_name(up.file_name),
                );
                for (k, v) in params.as_object().into_iter().flatten() {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    form = form.text(k.clone(), text);
                }
                req.multipart(form)
            }
        };
        let resp = req
            .send()
            .await
            .map_err(|e| TgError::Transient(self.redact(&e.without_url().to_string())))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| TgError::Transient(self.redact(&e.without_url().to_string())))?;
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            TgError::Transient(format!(
                "{method}: HTTP {status} with a body that is not JSON"
            ))
        })?;
        if answer.ok {
            return Ok(answer.result);
        }
        let code = if answer.error_code == 0 {
            status
        } else {
            answer.error_code
        };
        let retry = answer.parameters.and_then(|p| p.retry_after);
        Err(sort(code, &self.redact(&answer.description), retry))
    }

    /// Removes the token from any text before it is logged or stored.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
    }
}

/// Sorts a Bot API error by what the sender must do.
pub fn sort(code: u16, description: &str, retry_after: Option<f64>) -> TgError {
    let d = description.to_ascii_lowercase();
    match code {
        429 => TgError::RetryAfter(
            retry_after
                .and_then(crate::http::seconds)
                .unwrap_or(crate::http::DEFAULT_RATE_LIMIT_DELAY),
        ),
        400 if d.contains("message is not modified") => TgError::NotModified,
        403 => TgError::Unreachable(description.to_owned()),
        400 if d.contains("chat not found") || d.contains("user not found") => {
            TgError::Unreachable(description.to_owned())
        }
        // Our own token refused, or a method missing: configuration, not this message.
        401 | 404 | 500..=599 => TgError::Transient(format!("{code} {description}")),
        _ => TgError::Permanent(format!("{code} {description}")),
    }
}

/// An `InlineKeyboardMarkup` for the rows.
pub fn keyboard(rows: &[ButtonRow]) -> Value {
    let rows: Vec<Vec<Value>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|(text, data)| json!({"text": text, "callback_data": data}))
                .collect()
        })
        .collect();
    json!({ "inline_keyboard": rows })
}

/// Replaces the token (and its URL-encoded form) with `***`.
pub fn redact(text: &str, token: &Secret) -> String {
    if token.is_empty() {
        return text.to_owned();
    }
    let encoded = token.expose().replace(':', "%3A");
    text.replace(token.expose(), "***").replace(&encoded, "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_redacted_plain_and_encoded() {
        let t = Secret::new("123456:AAbbCC");
        let s = redact(
            "error sending request for url (http://x/bot123456:AAbbCC/SendMessage) 123456%3AAAbbCC",
            &t,
        );
        assert!(!s.contains("AAbbCC"), "{s}");
        assert!(s.contains("/bot***/SendMessage"));
    }

    #[test]
    fn errors_are_sorted_by_what_the_sender_does() {
        assert_eq!(
            sort(429, "Too Many Requests: retry after 7", Some(7.0)),
            TgError::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            sort(429, "Too Many Requests", Some(f64::NAN)),
            TgError::RetryAfter(crate::http::DEFAULT_RATE_LIMIT_DELAY)
        );
        assert!(matches!(
            sort(403, "Forbidden: bot was blocked by the user", None),
            TgError::Unreachable(_)
        ));
        assert!(matches!(
            sort(400, "Bad Request: chat not found", None),
            TgError::Unreachable(_)
        ));
        assert_eq!(
            sort(
                400,
                "Bad Request: message is not modified: specified new message content",
                None
            ),
            TgError::NotModified
        );
        assert!(matches!(
            sort(502, "Bad Gateway", None),
            TgError::Transient(_)
        ));
        assert!(matches!(
            sort(401, "Unauthorized", None),
            TgError::Transient(_)
        ));
        assert!(matches!(
            sort(400, "Bad Request: message text is empty", None),
            TgError::Permanent(_)
        ));
    }

    #[test]
    fn keyboards_have_telegrams_shape() {
        let rows = vec![vec![("📸".to_owned(), "photo:5".to_owned())]];
        let k = keyboard(&rows);
        assert_eq!(k["inline_keyboard"][0][0]["text"], "📸");
        assert_eq!(k["inline_keyboard"][0][0]["callback_data"], "photo:5");
    }
}
