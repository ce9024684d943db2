//! The Bot API client: fn-send's calls (any method with JSON parameters, or multipart with one
//! upload) and fn-ingress's long polling (`getUpdates`, the updates kept raw). Answers are read
//! from Telegram's envelope in [`answer`] and, for a sender, sorted into what it must do (go
//! on, wait `retry_after`, stop writing to a chat that blocked the bot, retry later, give up).
//! The bot token is part of every URL: it is redacted from every message this module
//! produces. Also the inline-keyboard shapes handlers use.

mod answer;

pub use answer::{Failure, Refusal, TgError, sort};

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::config::{Secret, TelegramSettings};

/// A row of inline buttons, each `(label, callback_data)`.
pub type ButtonRow = Vec<(String, String)>;

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

impl BotApi {
    /// Builds the client; `timeout` bounds every call (an upload's, plus [`upload_allowance`]).
    pub fn new(settings: &TelegramSettings, timeout: Duration) -> Result<Self, String> {
        let http = crate::http::client(timeout)
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
        let took = started.elapsed();
        crate::telemetry::hops::add(crate::telemetry::hops::Part::Outside, took);
        metrics::histogram!("companion_telegram_seconds", "method" => method.clone())
            .record(took.as_secs_f64());
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

    /// `getUpdates`: the updates after `offset` as Telegram sent them (raw JSON, so a kind
    /// this build does not know keeps its content), waiting up to `wait` for the first; the
    /// call is given `wait` on top of the call timeout. Not timed: a long poll is no latency.
    pub async fn updates(
        &self,
        offset: i64,
        wait: Duration,
        limit: u8,
    ) -> Result<Vec<Box<RawValue>>, Failure> {
        let params = json!({"offset": offset, "timeout": wait.as_secs(), "limit": limit});
        let req = self
            .post("getUpdates")
            .timeout(self.timeout + wait)
            .json(&params);
        self.answer("getUpdates", req).await
    }

    async fn request(
        &self,
        method: &str,
        params: &Value,
        upload: Option<Upload>,
    ) -> Result<Value, TgError> {
        let req = self.post(method);
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
        Ok(self.answer(method, req).await?)
    }

    /// A POST to `method`, carrying the trace it is part of.
    fn post(&self, method: &str) -> reqwest::RequestBuilder {
        let url = format!("{}/bot{}/{method}", self.base, self.token.expose());
        let req = self.http.post(url);
        match crate::telemetry::trace::current_parent() {
            Some(parent) => req.header(crate::telemetry::trace::TRACEPARENT, parent),
            None => req,
        }
    }

    /// Sends `req` and reads Telegram's answer to it.
    async fn answer<T: DeserializeOwned + Default>(
        &self,
        method: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let unanswered =
            |e: reqwest::Error| Failure::Unanswered(self.redact(&e.without_url().to_string()));
        let resp = req.send().await.map_err(unanswered)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(unanswered)?;
        answer::read(method, status, &body, &self.token)
    }

    /// A file the user sent (`getFile`, then `GET /file/bot<token>/<file_path>`), refused as
    /// [`TgError::Permanent`] when larger than `max_bytes` (by Telegram's `file_size` or while
    /// reading). A read, not an effect: it changes nothing, so any function may make it.
    pub async fn download(&self, file_id: &str, max_bytes: usize) -> Result<Vec<u8>, TgError> {
        let file = self
            .call("getFile", &json!({"file_id": file_id}), None)
            .await?;
        let too_big = || TgError::Permanent(format!("file larger than {max_bytes} bytes"));
        if file["file_size"]
            .as_u64()
            .is_some_and(|n| n > max_bytes as u64)
        {
            return Err(too_big());
        }
        let path = file["file_path"]
            .as_str()
            .ok_or_else(|| TgError::Transient("getFile gave no file_path".into()))?;
        let url = format!("{}/file/bot{}/{path}", self.base, self.token.expose());
        let unanswered =
            |e: reqwest::Error| TgError::Transient(self.redact(&e.without_url().to_string()));
        let mut resp = self.http.get(url).send().await.map_err(unanswered)?;
        let status = resp.status();
        if !status.is_success() {
            let why = self.redact(&format!("file download answered {status}"));
            return Err(match status.as_u16() {
                400..=499 => TgError::Permanent(why),
                _ => TgError::Transient(why),
            });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(unanswered)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > max_bytes {
                return Err(too_big());
            }
        }
        Ok(bytes)
    }

    /// Removes the token from any text before it is logged or stored.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
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
    fn keyboards_have_telegrams_shape() {
        let rows = vec![vec![("📸".to_owned(), "photo:5".to_owned())]];
        let k = keyboard(&rows);
        assert_eq!(k["inline_keyboard"][0][0]["text"], "📸");
        assert_eq!(k["inline_keyboard"][0][0]["callback_data"], "photo:5");
    }
}
