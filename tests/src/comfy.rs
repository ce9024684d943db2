//! ComfyUI and Venice image stand-ins beside the Automatic1111 one, on the same script (so
//! tests read what each received through `GET /_requests`). ComfyUI: `POST /prompt` queues the
//! API-format graph (recorded as the request) and renders it in the background after the
//! scripted delay; `GET /history/{id}` is `{}` until then, `GET /view` serves the file,
//! `GET /queue` lists what is running, `POST /queue {"delete": [...]}` drops a prompt. Venice:
//! `POST …/image/generate` with a bearer key answers `{"id", "images": [base64], "timing"}`,
//! and refuses a prompt or a size beyond lustify-sdxl's limits with 400.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use crate::picture::picture;
use crate::script::Script;

/// ComfyUI's state: finished prompts and their files, and prompts still running.
#[derive(Default)]
pub struct Comfy {
    script: Arc<Script>,
    done: Mutex<HashMap<String, (String, Vec<u8>)>>,
    running: Mutex<Vec<String>>,
}

/// The ComfyUI and Venice routes on `script`.
pub fn router(script: Arc<Script>) -> Router {
    let comfy = Arc::new(Comfy {
        script,
        ..Comfy::default()
    });
    Router::new()
        .route("/prompt", post(queue_prompt))
        .route("/history/{id}", get(history))
        .route("/view", get(view))
        .route("/queue", get(queue).post(delete))
        .route("/api/v1/image/generate", post(venice))
        .with_state(comfy)
}

/// The node whose `class_type` is `class`, from an API-format graph.
fn node<'a>(graph: &'a Value, class: &str) -> Option<&'a Value> {
    graph
        .as_object()?
        .values()
        .find(|n| n["class_type"] == class)
}

async fn queue_prompt(State(c): State<Arc<Comfy>>, Json(body): Json<Value>) -> Response {
    let id = body["prompt_id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let graph = body["prompt"].clone();
    if node(&graph, "KSampler").is_none() {
        let e = json!({"error": {"type": "prompt_no_outputs", "message": "Prompt has no outputs", "details": "", "extra_info": {}}, "node_errors": {}});
        return (axum::http::StatusCode::BAD_REQUEST, Json(e)).into_response();
    }
    if c.done.lock().unwrap().contains_key(&id) || c.running.lock().unwrap().contains(&id) {
        let e = json!({"error": {"type": "invalid_prompt_id", "message": "prompt_id already used", "details": "", "extra_info": {}}, "node_errors": {}});
        return (axum::http::StatusCode::BAD_REQUEST, Json(e)).into_response();
    }
    c.running.lock().unwrap().push(id.clone());
    let (c2, id2) = (c.clone(), id.clone());
    tokio::spawn(async move {
        let step = c2.script.begin(graph.clone()).await;
        if !c2.running.lock().unwrap().contains(&id2) {
            return; // deleted from the queue meanwhile
        }
        let latent = node(&graph, "EmptyLatentImage")
            .map(|n| n["inputs"].clone())
            .unwrap_or_default();
        let dim = |k: &str| latent[k].as_u64().unwrap_or(512).clamp(8, 1024) as u32;
        let (w, h) = step.size.unwrap_or((dim("width"), dim("height")));
        let seed = node(&graph, "KSampler")
            .and_then(|n| n["inputs"]["seed"].as_i64())
            .unwrap_or(1);
        let bytes = match &step.body {
            Some(raw) => raw.clone().into_bytes(),
            None => picture(w, h, seed),
        };
        c2.running.lock().unwrap().retain(|r| r != &id2);
        if step.status == 200 {
            c2.done
                .lock()
                .unwrap()
                .insert(id2.clone(), (format!("companion_{id2}.png"), bytes));
        }
    });
    Json(json!({"prompt_id": id, "number": 1, "node_errors": {}})).into_response()
}

async fn history(State(c): State<Arc<Comfy>>, Path(id): Path<String>) -> Json<Value> {
    let done = c.done.lock().unwrap();
    let Some((file, _)) = done.get(&id) else {
        return Json(json!({}));
    };
    Json(json!({ id.clone(): {
        "prompt": [1, id, {}, {}, ["9"]],
        "outputs": {"9": {"images": [{"filename": file, "subfolder": "", "type": "output"}]}},
        "status": {"status_str": "success", "completed": true, "messages": []},
        "meta": {"9": {}},
    }}))
}

async fn view(State(c): State<Arc<Comfy>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let done = c.done.lock().unwrap();
    let name = q.get("filename").cloned().unwrap_or_default();
    match done.values().find(|(f, _)| *f == name) {
        Some((_, bytes)) => ([("content-type", "image/png")], bytes.clone()).into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn queue(State(c): State<Arc<Comfy>>) -> Json<Value> {
    let running: Vec<Value> = c
        .running
        .lock()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, id)| json!([i, id, {}, {}, ["9"]]))
        .collect();
    Json(json!({"queue_running": running, "queue_pending": []}))
}

async fn delete(State(c): State<Arc<Comfy>>, Json(body): Json<Value>) -> Json<Value> {
    let ids: Vec<String> = body["delete"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    c.running.lock().unwrap().retain(|r| !ids.contains(r));
    Json(json!({}))
}

async fn venice(
    State(c): State<Arc<Comfy>>,
    headers: axum::http::HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > "Bearer ".len());
    if !authorized {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Authentication failed"})),
        )
            .into_response();
    }
    if let Some(why) = venice_limits(&req) {
        c.script.record(req);
        let e = json!({"error": "Invalid request parameters", "details": {"_errors": [why]}});
        return (axum::http::StatusCode::BAD_REQUEST, Json(e)).into_response();
    }
    let step = c.script.begin(req.clone()).await;
    if let Some(r) = step.response() {
        return r;
    }
    let dim = |k: &str| req[k].as_u64().unwrap_or(1024).clamp(8, 1280) as u32;
    let (w, h) = step.size.unwrap_or((dim("width"), dim("height")));
    let png = picture(w, h, req["seed"].as_i64().unwrap_or(1));
    Json(json!({
        "id": format!("generate-image-{}", uuid::Uuid::new_v4().simple()),
        "images": [base64::engine::general_purpose::STANDARD.encode(png)],
        "timing": {"inferenceDuration": 10, "inferencePreprocessingTime": 1, "inferenceQueueTime": 1, "total": 12},
        "request": req,
    }))
    .into_response()
}

/// What lustify-sdxl refuses: a prompt over its 1,500 characters, a side over 1280 or not a
/// multiple of its divisor (8).
fn venice_limits(req: &Value) -> Option<String> {
    for key in ["prompt", "negative_prompt"] {
        let n = req[key].as_str().map_or(0, |p| p.chars().count());
        if n > 1500 {
            return Some(format!("{key}: at most 1500 characters, got {n}"));
        }
    }
    ["width", "height"].into_iter().find_map(|key| {
        let v = req[key].as_u64().unwrap_or(1024);
        (v > 1280 || !v.is_multiple_of(8))
            .then(|| format!("{key}: at most 1280 and divisible by 8, got {v}"))
    })
}
