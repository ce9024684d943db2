//! The ComfyUI stand-in's routes, as the real server answers them: `POST /prompt` (the id a
//! build takes or chooses, 400 for a malformed `prompt_id`, a graph without outputs or no
//! graph), `GET /history/{id}`, `POST /history {"delete"|"clear"}`, `GET /view`, `GET /queue`,
//! `POST /queue {"delete"|"clear"}` (pending prompts only) and `POST /interrupt`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Build, Comfy, Prompt, node, worker};

fn refused(kind: &str, message: &str) -> Response {
    let e = json!({"error": {"type": kind, "message": message, "details": "", "extra_info": {}}, "node_errors": {}});
    (StatusCode::BAD_REQUEST, Json(e)).into_response()
}

/// The prompt's id: the client's `prompt_id` when this build takes it, else a fresh one;
/// `None` when a current build is given one that is not a canonical UUID.
fn chosen_id(build: Build, body: &Value) -> Option<String> {
    match (build, &body["prompt_id"]) {
        (Build::Old, _) | (Build::Current, Value::Null) => Some(uuid::Uuid::new_v4().to_string()),
        (Build::Current, given) => {
            let text = given.as_str().unwrap_or_default();
            let canonical = uuid::Uuid::parse_str(text).is_ok_and(|u| u.to_string() == text);
            canonical.then(|| text.to_owned())
        }
    }
}

pub(super) async fn queue_prompt(State(c): State<Arc<Comfy>>, Json(body): Json<Value>) -> Response {
    let graph = body["prompt"].clone();
    if graph.is_null() {
        return refused("no_prompt", "No prompt provided");
    }
    let Some(id) = chosen_id(c.build, &body) else {
        return refused("invalid_prompt_id", "prompt_id must be a valid UUID");
    };
    if node(&graph, "KSampler").is_none() {
        return refused("prompt_no_outputs", "Prompt has no outputs");
    }
    let mut extra = body["extra_data"].clone();
    if !extra.is_object() {
        extra = json!({});
    }
    if let Some(client) = body.get("client_id") {
        extra["client_id"] = client.clone();
    }
    let number = {
        let mut s = c.state.lock().unwrap();
        let number = s.number;
        s.number += 1;
        s.pending.push(Prompt {
            number,
            id: id.clone(),
            graph,
            extra,
        });
        number
    };
    tokio::spawn(worker::render_next(c.clone()));
    Json(json!({"prompt_id": id, "number": number, "node_errors": {}})).into_response()
}

pub(super) async fn history(State(c): State<Arc<Comfy>>, Path(id): Path<String>) -> Json<Value> {
    let s = c.state.lock().unwrap();
    match s.history.iter().find(|(h, _)| *h == id) {
        Some((_, entry)) => Json(json!({ id.clone(): entry })),
        None => Json(json!({})),
    }
}

/// The ids of a `{"delete": [...]}` body.
fn ids_of(body: &Value) -> Vec<String> {
    body["delete"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

pub(super) async fn delete_history(
    State(c): State<Arc<Comfy>>,
    Json(body): Json<Value>,
) -> StatusCode {
    let mut s = c.state.lock().unwrap();
    if body["clear"] == true {
        s.history.clear();
    }
    let ids = ids_of(&body);
    s.history.retain(|(id, _)| !ids.contains(id));
    s.forgotten.extend(ids);
    StatusCode::OK
}

pub(super) async fn view(
    State(c): State<Arc<Comfy>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = c.state.lock().unwrap();
    let name = q.get("filename").cloned().unwrap_or_default();
    match s.files.get(&name) {
        Some(bytes) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(super) async fn queue(State(c): State<Arc<Comfy>>) -> Json<Value> {
    let s = c.state.lock().unwrap();
    let running: Vec<Value> = s.running.iter().map(|(p, _)| p.listed()).collect();
    let mut pending: Vec<&Prompt> = s.pending.iter().collect();
    pending.sort_by_key(|p| p.number);
    let pending: Vec<Value> = pending.into_iter().map(Prompt::listed).collect();
    Json(json!({"queue_running": running, "queue_pending": pending}))
}

pub(super) async fn delete(State(c): State<Arc<Comfy>>, Json(body): Json<Value>) -> StatusCode {
    let mut s = c.state.lock().unwrap();
    if body["clear"] == true {
        s.pending.clear();
    }
    let ids = ids_of(&body);
    s.pending.retain(|p| !ids.contains(&p.id));
    s.unqueued.extend(ids);
    StatusCode::OK
}

pub(super) async fn interrupt(State(c): State<Arc<Comfy>>, body: axum::body::Bytes) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| json!({}));
    let mut s = c.state.lock().unwrap();
    let only = match c.build {
        Build::Current => body["prompt_id"].as_str().filter(|p| !p.is_empty()),
        Build::Old => None,
    };
    if let Some((running, stop)) = &s.running
        && only.is_none_or(|p| p == running.id)
    {
        stop.store(true, Ordering::SeqCst);
    }
    s.interrupts.push(body);
    StatusCode::OK
}
