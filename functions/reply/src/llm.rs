//! The OpenAI-compatible chat completions client (Venice by default): `POST
//! {base}/chat/completions`, errors classified by `runtime::http` — 429 waits for the rate-limit
//! reset, 5xx and timeouts retry, other 4xx are permanent, a garbled answer retries — and a
//! prompt longer than the model's context reported apart, so the caller can trim the history.
//! Answers are asked for streamed (`stream: true`) and read by `crate::sse`; what of their
//! text is kept is `crate::answer`'s.

use std::time::Duration;

use runtime::HandlerError;
use runtime::config::Secret;
use runtime::http::Timed;
use serde::{Deserialize, Serialize};

use crate::sse::Pieces;

/// Idle connections kept to the LLM API between bursts.
const IDLE_CONNECTIONS: usize = 32;

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

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The prompt is longer than the model's context (`context_length_exceeded`).
    #[error("the prompt does not fit the model's context")]
    ContextOverflow,
    /// Anything else, classified for the runner.
    #[error(transparent)]
    Failed(#[from] HandlerError),
}

impl From<LlmError> for HandlerError {
    fn from(e: LlmError) -> Self {
        match e {
            LlmError::ContextOverflow => HandlerError::permanent(e.to_string()),
            LlmError::Failed(h) => h,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: String,
}

/// Whether an error body is OpenAI's `context_length_exceeded` (or says so in words).
pub fn is_context_overflow(body: &str) -> bool {
    let Ok(b) = serde_json::from_str::<ErrorBody>(body) else {
        return false;
    };
    let code = b.error.code.as_ref().and_then(|c| c.as_str()).unwrap_or("");
    let m = b.error.message.to_ascii_lowercase();
    code == "context_length_exceeded" || m.contains("maximum context length")
}

/// A chat completions client.
pub struct Llm {
    http: reqwest::Client,
    url: String,
    s: LlmSettings,
}

impl Llm {
    /// Builds the client.
    pub fn new(s: LlmSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(s.timeout)
            .connect_timeout(Duration::from_secs(10))
            // After a burst, keep a few warm connections, not one per turn that was in flight
            // (each holds its buffers).
            .pool_max_idle_per_host(IDLE_CONNECTIONS)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            url: format!("{}/chat/completions", s.base_url),
            s,
        })
    }

    /// Asks for the next assistant message, streamed: the answer's pieces as they come.
    /// Errors before the first byte are classified here (429, 5xx, context overflow…).
    pub async fn start(&self, messages: &[ChatMessage], hot: bool) -> Result<Pieces, LlmError> {
        // Written again because the last one repeated itself: warmer and less repetitive.
        let (temperature, penalty) = if hot {
            (self.s.temperature + 0.25, 0.6)
        } else {
            (self.s.temperature, 0.0)
        };
        let body = serde_json::json!({
            "model": self.s.model,
            "messages": messages,
            "temperature": temperature,
            "frequency_penalty": penalty,
            "presence_penalty": penalty,
            "max_completion_tokens": self.s.max_completion_tokens,
            "stream": true,
            "venice_parameters": {"include_venice_system_prompt": false, "strip_thinking_response": true},
        });
        let resp = runtime::http::post_json(&self.http, &self.url, &self.s.api_key, &body)
            .timed("llm")
            .await
            .map_err(|e| HandlerError::transient(format!("llm request: {}", e.without_url())))?;
        let status = resp.status();
        if !status.is_success() {
            let request_id = resp
                .headers()
                .get("cf-ray")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned();
            let delay = runtime::http::delay_of(resp.headers());
            let text = runtime::http::error_body(resp).await;
            tracing::warn!(%status, request_id, body = %text, "llm refused");
            if status.as_u16() == 400 && is_context_overflow(&text) {
                return Err(LlmError::ContextOverflow);
            }
            let reason = format!("llm answered {status}: {text}");
            return Err(runtime::http::classify(status.as_u16(), delay, reason).into());
        }
        Ok(Pieces::new(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_overflow_is_recognised_in_openai_error_shape() {
        let body = r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert!(is_context_overflow(body));
        assert!(!is_context_overflow(
            r#"{"error":{"message":"bad key","type":"auth","code":null}}"#
        ));
        assert!(!is_context_overflow("not json"));
    }
}
