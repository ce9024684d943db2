//! Scripted behaviour shared by the LLM and image stand-ins: tests queue what the next calls
//! should do (fail with a status, answer garbage, take a while), and every request is
//! recorded for assertions.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// What one call should do instead of the normal answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// HTTP status to answer (200 keeps the normal answer unless `body` is set).
    #[serde(default = "ok")]
    pub status: u16,
    /// Wait this long before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// Raw body to send instead of the normal one.
    #[serde(default)]
    pub body: Option<String>,
    /// `Retry-After` header value (any text, as a server might send it).
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Image stand-in: answer a picture of this width and height instead of the requested.
    #[serde(default)]
    pub size: Option<(u32, u32)>,
    /// LLM stand-in: answer with this content instead of the usual line.
    #[serde(default)]
    pub content: Option<String>,
    /// LLM stand-in, streamed answers: wait this long between pieces (a slow model).
    #[serde(default)]
    pub chunk_ms: u64,
}

fn ok() -> u16 {
    200
}

impl Default for Step {
    /// The normal answer, at once.
    fn default() -> Self {
        Self {
            status: ok(),
            delay_ms: 0,
            body: None,
            retry_after: None,
            size: None,
            content: None,
            chunk_ms: 0,
        }
    }
}

/// A queue of steps and the log of requests.
#[derive(Default)]
pub struct Script {
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<serde_json::Value>>,
    traceparents: Mutex<Vec<String>>,
    timings: Mutex<std::collections::HashMap<String, Duration>>,
    default_delay_ms: std::sync::atomic::AtomicU64,
    /// Longest prompt (characters of all messages) the LLM stand-in accepts; 0 = any.
    pub max_prompt_chars: std::sync::atomic::AtomicUsize,
    /// How strictly the LLM stand-in reads a request (`crate::llm::Mode`; 0 = Venice's way).
    pub llm_mode: std::sync::atomic::AtomicU8,
    /// Serialises requests where the real server has one worker (A1111).
    pub worker: tokio::sync::Mutex<()>,
}

impl Script {
    /// Queues steps for the next calls.
    pub fn push(&self, steps: Vec<Step>) {
        self.steps.lock().unwrap().extend(steps);
    }

    /// Sets a delay applied to every call without a scripted step.
    pub fn set_default_delay(&self, ms: u64) {
        self.default_delay_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Records a request and returns the step to apply.
    pub async fn begin(&self, request: serde_json::Value) -> Step {
        self.requests.lock().unwrap().push(request);
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Step {
                status: 200,
                delay_ms: self
                    .default_delay_ms
                    .load(std::sync::atomic::Ordering::Relaxed),
                ..Default::default()
            });
        if step.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(step.delay_ms)).await;
        }
        step
    }

    /// Records a request that is refused before any step applies.
    pub fn record(&self, request: serde_json::Value) {
        self.requests.lock().unwrap().push(request);
    }

    /// Records how long the stand-in spent answering the request known as `key`.
    pub fn record_time(&self, key: String, spent: Duration) {
        self.timings.lock().unwrap().insert(key, spent);
    }

    /// Time spent inside the stand-in for the request known as `key`.
    pub fn time_of(&self, key: &str) -> Option<Duration> {
        self.timings.lock().unwrap().get(key).copied()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.requests.lock().unwrap().clone()
    }

    /// Notes a request's `traceparent` header.
    pub fn record_traceparent(&self, value: &str) {
        self.traceparents.lock().unwrap().push(value.to_owned());
    }

    /// The `traceparent` headers requests came with, in order.
    pub fn traceparents(&self) -> Vec<String> {
        self.traceparents.lock().unwrap().clone()
    }
}

impl Step {
    /// The scripted response, or `None` to answer normally. Errors without a body take
    /// OpenAI's shape (`{"error":{"message","type","code"}}`), which A1111 clients read too.
    pub fn response(&self) -> Option<Response> {
        if self.status == 200 && self.body.is_none() {
            return None;
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.body.clone().unwrap_or_else(|| {
            let kind = if self.status == 429 {
                "rate_limit_exceeded"
            } else {
                "server_error"
            };
            openai_error(&format!("scripted {}", self.status), kind, None).to_string()
        });
        let mut r = (status, [("content-type", "application/json")], body).into_response();
        if let Some(v) = self.retry_after.as_deref().and_then(|v| v.parse().ok()) {
            r.headers_mut().insert("retry-after", v);
        }
        Some(r)
    }
}

/// An error body in OpenAI's shape.
pub fn openai_error(message: &str, kind: &str, code: Option<&str>) -> serde_json::Value {
    serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}
