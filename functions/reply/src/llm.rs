//! The OpenAI-compatible chat completions client (Venice by default): `POST
//! {base}/chat/completions`, errors classified for the runner — 429 waits for the rate-limit
//! reset, 5xx and timeouts retry, other 4xx are permanent, a garbled answer retries.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use shared::HandlerError;
use shared::config::Secret;

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// Model parameters.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// Base URL without `/chat/completions`.
    pub base_url: String,
    /// Bearer key (may be empty for a local stand-in).
    pub api_key: Secret,
    /// Model id.
    pub model: String,
    /// Answer length cap.
    pub max_completion_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Whole-call timeout.
    pub timeout: Duration,
}

/// A chat completions client.
pub struct Llm {
    http: reqwest::Client,
    url: String,
    s: LlmSettings,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
}

impl Llm {
    /// Builds the client.
    pub fn new(s: LlmSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(s.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            url: format!("{}/chat/completions", s.base_url),
            s,
        })
    }

    /// Asks for the next assistant message.
    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<String, HandlerError> {
        let body = serde_json::json!({
            "model": self.s.model,
            "messages": messages,
            "temperature": self.s.temperature,
            "max_completion_tokens": self.s.max_completion_tokens,
            "venice_parameters": {"include_venice_system_prompt": false, "strip_thinking_response": true},
        });
        let mut req = self.http.post(&self.url).json(&body);
        if !self.s.api_key.is_empty() {
            req = req.bearer_auth(self.s.api_key.expose());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| HandlerError::transient(format!("llm request: {}", e.without_url())))?;
        let status = resp.status();
        let request_id = resp
            .headers()
            .get("cf-ray")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        if !status.is_success() {
            let delay = retry_delay(resp.headers());
            let text = resp.text().await.unwrap_or_default();
            let text: String = text.chars().take(300).collect();
            tracing::warn!(%status, request_id, body = %text, "llm refused");
            return Err(classify(status, delay, &text));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| HandlerError::transient(format!("llm body: {}", e.without_url())))?;
        let parsed: Completion = serde_json::from_slice(&bytes).map_err(|e| {
            HandlerError::transient(format!(
                "llm answered something that is not a completion: {e}"
            ))
        })?;
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .unwrap_or_default();
        let clean = strip_thinking(&content);
        if clean.is_empty() {
            return Err(HandlerError::transient(
                "llm answered with an empty message",
            ));
        }
        Ok(clean)
    }
}

fn classify(status: StatusCode, delay: Option<Duration>, body: &str) -> HandlerError {
    let reason = format!("llm answered {status}: {body}");
    match status.as_u16() {
        429 => HandlerError::Transient {
            reason,
            retry_after: delay.or(Some(Duration::from_secs(5))),
        },
        408 | 500..=599 => HandlerError::Transient {
            reason,
            retry_after: delay,
        },
        _ => HandlerError::permanent(reason),
    }
}

/// `Retry-After` seconds, else Venice's `x-ratelimit-reset-requests` (a Unix timestamp).
fn retry_delay(h: &HeaderMap) -> Option<Duration> {
    let get = |k: &str| {
        h.get(k)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let Some(secs) = get(RETRY_AFTER.as_str()) {
        return Some(Duration::from_secs_f64(secs.clamp(0.0, 300.0)));
    }
    let reset = get("x-ratelimit-reset-requests")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some(Duration::from_secs_f64((reset - now).clamp(1.0, 300.0)))
}

/// Removes `<think>…</think>` blocks some reasoning models leave in `content`.
pub fn strip_thinking(text: &str) -> String {
    let mut out = text.to_owned();
    while let (Some(a), Some(b)) = (out.find("<think>"), out.find("</think>")) {
        if b < a {
            break;
        }
        out.replace_range(a..b + "</think>".len(), "");
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        assert!(classify(StatusCode::TOO_MANY_REQUESTS, None, "").is_transient());
        assert!(classify(StatusCode::BAD_GATEWAY, None, "").is_transient());
        assert!(!classify(StatusCode::UNAUTHORIZED, None, "").is_transient());
        assert!(!classify(StatusCode::UNPROCESSABLE_ENTITY, None, "").is_transient());
    }

    #[test]
    fn retry_after_wins_over_reset_timestamp() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_delay(&h), Some(Duration::from_secs(7)));
        let mut h = HeaderMap::new();
        let soon = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 20;
        h.insert(
            "x-ratelimit-reset-requests",
            soon.to_string().parse().unwrap(),
        );
        let d = retry_delay(&h).unwrap();
        assert!(
            d > Duration::from_secs(15) && d <= Duration::from_secs(21),
            "{d:?}"
        );
    }

    #[test]
    fn thinking_is_stripped() {
        assert_eq!(strip_thinking("<think>hmm</think> Hello!"), "Hello!");
        assert_eq!(strip_thinking("plain"), "plain");
    }
}
