//! Sends a chat completions request and sorts what comes back: the response when it
//! succeeded (its body read by the caller: one JSON completion or server-sent events), else
//! why not — no answer at all, or the server's status with its delay, the start of its body
//! and its request id (`CF-RAY`, logged). [`Failure`] becomes the runner's error through
//! `crate::http`'s one classification.

use std::time::Duration;

use crate::error::HandlerError;
use crate::http::Timed;

use super::{Endpoint, Request};

/// Idle connections kept to the API between bursts.
const IDLE_CONNECTIONS: usize = 32;

/// Why a request got no successful answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// No answer (refused, reset, timed out): worth retrying.
    #[error("{api} request: {reason}")]
    Unanswered {
        /// Which API (metrics label).
        api: &'static str,
        /// What happened, without the URL.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{0}")]
    Refused(Refused),
}

/// An error status and what came with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// Which API (metrics label).
    pub api: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The delay the server asked for (`Retry-After`, rate-limit reset).
    pub delay: Option<Duration>,
    /// The start of the body (at most 300 characters).
    pub body: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} answered {}: {}", self.api, self.status, self.body)
    }
}

impl Refused {
    /// Whether the prompt was longer than the model's context.
    pub fn is_context_overflow(&self) -> bool {
        self.status == 400 && is_context_overflow(&self.body)
    }
}

impl From<Failure> for HandlerError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Unanswered { .. } => HandlerError::transient(f.to_string()),
            Failure::Refused(r) => crate::http::classify(r.status, r.delay, r.to_string()),
        }
    }
}

/// Whether an error body is OpenAI's `context_length_exceeded` (or says so in words).
pub fn is_context_overflow(body: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    let e = &v["error"];
    let message = e["message"].as_str().unwrap_or("").to_ascii_lowercase();
    e["code"] == "context_length_exceeded" || message.contains("maximum context length")
}

/// A chat completions client for one endpoint.
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    endpoint: Endpoint,
    api: &'static str,
}

impl LlmClient {
    /// A client for `endpoint`, each call bounded by `timeout`, counted under `api`.
    pub fn new(endpoint: Endpoint, timeout: Duration, api: &'static str) -> Result<Self, String> {
        let http = crate::http::client(timeout)
            // After a burst, keep a few warm connections, not one per call that was in flight
            // (each holds its buffers).
            .pool_max_idle_per_host(IDLE_CONNECTIONS)
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!(
            "{}/chat/completions",
            endpoint.base_url.trim_end_matches('/')
        );
        Ok(Self {
            http,
            url,
            endpoint,
            api,
        })
    }

    /// Where it sends and in which flavor.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends `request`; the response when its status is a success.
    pub async fn send(&self, request: &Request<'_>) -> Result<reqwest::Response, Failure> {
        let body = request.body(&self.endpoint);
        let api = self.api;
        let resp = crate::http::post_json(&self.http, &self.url, &self.endpoint.api_key, &body)
            .timed(api)
            .await
            .map_err(|e| Failure::Unanswered {
                api,
                reason: e.without_url().to_string(),
            })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let request_id = resp
            .headers()
            .get("cf-ray")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let delay = crate::http::delay_of(resp.headers());
        let body = crate::http::error_body(resp).await;
        tracing::warn!(api, %status, request_id, body = %body, "the LLM refused");
        Err(Failure::Refused(Refused {
            api,
            status: status.as_u16(),
            delay,
            body,
        }))
    }
}
