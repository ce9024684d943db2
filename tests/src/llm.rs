//! OpenAI-compatible chat completions stand-in (`POST …/chat/completions`, Venice's shape):
//! answers in character with a deterministic line built from the last user message, so tests
//! can recognise it (asked for a photo scene as JSON, it answers [`SCENE`]; asked to extract
//! facts about the user, it draws them from the messages it is sent: [`memory`]). Like the real
//! API it wants a bearer key and the completions path, and it refuses a prompt longer than its context with 400 `context_length_exceeded`, every error in
//! OpenAI's shape. It reads requests as Venice does unless set to a strict OpenAI-compatible
//! server's ways ([`Mode`], `strict`). Asked for `stream: true`, it answers server-sent events word by word, as
//! OpenAI and Venice do. `POST /_script` queues failures or delays, `GET /_requests` lists calls.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;

use crate::script::{Script, Step, openai_error};

pub mod memory;
pub mod strict;

pub use strict::Mode;

/// The answer the stand-in gives to `user_text`.
pub fn answer_for(user_text: &str) -> String {
    format!("I love hearing that: \"{user_text}\". Tell me more?")
}

/// What the stand-in answers when asked for a photo scene (`response_format` `json_schema` or
/// `json_object`, or in words when the instructions ask for JSON).
pub const SCENE: &str = r#"{"place": "by the window of a quiet café", "time_of_day": "late afternoon", "pose": "sitting with her chin on her hand", "expression": "warm, teasing smile", "clothing": [], "level": "none", "caption": "Thinking of you ☕"}"#;

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

fn refuse(status: u16, message: &str, kind: &str, code: Option<&str>) -> Response {
    let status = axum::http::StatusCode::from_u16(status).expect("status");
    (status, Json(openai_error(message, kind, code))).into_response()
}

async fn complete(
    State(script): State<Arc<Script>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let started = std::time::Instant::now();
    if !path.ends_with("chat/completions") {
        return refuse(
            404,
            &format!("Unknown request URL: POST /{path}"),
            "invalid_request_error",
            None,
        );
    }
    if let Some(parent) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
        script.record_traceparent(parent);
    }
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if key.strip_prefix("Bearer ").is_none_or(str::is_empty) {
        return refuse(
            401,
            "Authentication failed: no API key",
            "authentication_error",
            None,
        );
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return refuse(
            400,
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            None,
        );
    };
    let prompt_chars: usize = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["content"].as_str().unwrap_or("").chars().count())
        .sum();
    let limit = script
        .max_prompt_chars
        .load(std::sync::atomic::Ordering::Relaxed);
    if limit > 0 && prompt_chars > limit {
        script.begin(request).await;
        let m = format!(
            "This model's maximum context length is {limit} characters; your messages have {prompt_chars}."
        );
        return refuse(
            400,
            &m,
            "invalid_request_error",
            Some("context_length_exceeded"),
        );
    }
    if let Some((message, _)) = strict::refusal(Mode::of(&script), &request) {
        script.record(request);
        return refuse(400, &message, "invalid_request_error", None);
    }
    let step = script.begin(request.clone()).await;
    if let Some(r) = step.response() {
        return r;
    }
    let last_user = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let content = step.content.clone().unwrap_or_else(|| {
        memory::facts_answer(&request)
            .or_else(|| strict::scene_answer(&request, SCENE))
            .unwrap_or_else(|| answer_for(last_user))
    });
    script.record_time(last_user.to_owned(), started.elapsed());
    if request["stream"] == true {
        return stream(content, step.chunk_ms, &request);
    }
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

/// The answer as OpenAI's server-sent events: one `chat.completion.chunk` per word (after
/// `chunk_ms`), a last chunk with `finish_reason`, then `data: [DONE]`.
fn stream(content: String, chunk_ms: u64, request: &serde_json::Value) -> Response {
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let model = request["model"].as_str().unwrap_or("stand-in").to_owned();
    let chunk = move |delta: serde_json::Value, finish: Option<&str>| {
        let c = serde_json::json!({
            "id": id, "object": "chat.completion.chunk", "created": chrono::Utc::now().timestamp(),
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {c}\n\n")
    };
    let words: Vec<String> = content.split_inclusive(' ').map(str::to_owned).collect();
    let first = chunk(
        serde_json::json!({"role": "assistant", "content": ""}),
        None,
    );
    let mut events = vec![(0, first)];
    for (i, w) in words.into_iter().enumerate() {
        let wait = if i == 0 { 0 } else { chunk_ms };
        events.push((wait, chunk(serde_json::json!({ "content": w }), None)));
    }
    events.push((0, chunk(serde_json::json!({}), Some("stop"))));
    events.push((0, "data: [DONE]\n\n".to_owned()));
    let body = futures::stream::iter(events).then(|(wait, event)| async move {
        if wait > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
        Ok::<_, std::convert::Infallible>(event)
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(axum::body::Body::from_stream(body))
        .expect("a valid response")
}
