//! OpenAI-compatible chat completions stand-in (`POST …/chat/completions`, Venice's shape):
//! answers in character with a deterministic line built from the last user message, so tests
//! can recognise it. `POST /_script` queues failures or delays, `GET /_requests` lists calls.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::script::{Script, Step};

/// The answer the stand-in gives to `user_text`.
pub fn answer_for(user_text: &str) -> String {
    format!("I love hearing that: \"{user_text}\". Tell me more?")
}

/// The router; the completions route accepts any prefix (`/api/v1`, `/v1`, none).
pub fn router(script: Arc<Script>) -> Router {
    Router::new()
        .route("/{*path}", post(complete))
        .route(
            "/_requests",
            get(|State(s): State<Arc<Script>>| async move { Json(s.requests()) }),
        )
        .route(
            "/_script",
            post(
                |State(s): State<Arc<Script>>, Json(steps): Json<Vec<Step>>| async move {
                    s.push(steps)
                },
            ),
        )
        .with_state(script)
}

async fn complete(State(script): State<Arc<Script>>, body: axum::body::Bytes) -> Response {
    let started = std::time::Instant::now();
    let request: serde_json::Value =
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let step = script.begin(request.clone()).await;
    if let Some(r) = step.response() {
        return r;
    }
    let last_user = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let content = answer_for(last_user);
    script.record_time(last_user.to_owned(), started.elapsed());
    let completion_tokens = content.split_whitespace().count();
    Json(serde_json::json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": chrono::Utc::now().timestamp(),
        "model": request["model"].as_str().unwrap_or("stand-in"),
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null, "stop_reason": null,
                     "message": {"role": "assistant", "content": content, "reasoning_content": null, "tool_calls": []}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": completion_tokens, "total_tokens": 100 + completion_tokens},
        "venice_parameters": request["venice_parameters"].clone(),
    }))
    .into_response()
}
