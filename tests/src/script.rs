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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// `Retry-After` header value.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

fn ok() -> u16 {
    200
}

/// A queue of steps and the log of requests.
#[derive(Default)]
pub struct Script {
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<serde_json::Value>>,
    timings: Mutex<std::collections::HashMap<String, Duration>>,
    default_delay_ms: std::sync::atomic::AtomicU64,
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
}

impl Step {
    /// The scripted response, or `None` to answer normally.
    pub fn response(&self) -> Option<Response> {
        if self.status == 200 && self.body.is_none() {
            return None;
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self
            .body
            .clone()
            .unwrap_or_else(|| format!(r#"{{"error":"scripted {}"}}"#, self.status));
        let mut r = (status, [("content-type", "application/json")], body).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert("retry-after", secs.into());
        }
        Some(r)
    }
}
