//! ComfyUI and Venice image stand-ins beside the Automatic1111 one, on the same script (so
//! tests read what each received through `GET /_requests`).
//!
//! ComfyUI behaves as the real server does (routes in `comfy::http`): `POST /prompt` queues
//! the API-format graph under the client's `prompt_id` (a current build) or under an id of its
//! own whatever the client sent ([`Build::Old`], before mid-2025), and nothing refuses a
//! prompt id used before: posting again renders again. One worker (`comfy::worker`) renders
//! the queue in order, each render a script step (recorded as the request, taking the step's
//! delay); `/queue` shows what runs and waits, `/interrupt` stops the running prompt — a
//! current build only when the body's `prompt_id` (if any) names it, an old build whatever
//! runs — and finished prompts land in the history until deleted. [`Comfy`] counts renders and
//! records the clean-up calls for assertions.
//!
//! Venice: `POST …/image/generate` with a bearer key answers `{"id", "images": [base64],
//! "timing"}`, and refuses a prompt or a size beyond lustify-sdxl's limits with 400.

mod http;
mod worker;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use crate::picture::picture;
use crate::script::Script;

/// Which ComfyUI the stand-in plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Build {
    /// A current build: takes the client's `prompt_id`, interrupts by id.
    #[default]
    Current,
    /// A build from before mid-2025: chooses its own prompt ids, `/interrupt` stops whatever
    /// runs.
    Old,
}

/// A queued prompt.
#[derive(Debug, Clone)]
struct Prompt {
    number: u64,
    id: String,
    graph: Value,
    extra: Value,
}

impl Prompt {
    /// As `GET /queue` and the history list it.
    fn listed(&self) -> Value {
        json!([self.number, self.id, self.graph, self.extra, ["9"]])
    }
}

/// The server's state, under one lock (as ComfyUI's queue has one mutex).
#[derive(Default)]
struct Inner {
    number: u64,
    pending: Vec<Prompt>,
    running: Option<(Prompt, Arc<AtomicBool>)>,
    history: Vec<(String, Value)>,
    files: HashMap<String, Vec<u8>>,
    interrupts: Vec<Value>,
    forgotten: Vec<String>,
    unqueued: Vec<String>,
}

/// A ComfyUI server's state and what it was asked.
pub struct Comfy {
    script: Arc<Script>,
    build: Build,
    state: Mutex<Inner>,
    gpu: tokio::sync::Mutex<()>,
    renders: AtomicUsize,
}

impl Comfy {
    /// A server playing `build`, rendering by `script`'s steps.
    pub fn new(script: Arc<Script>, build: Build) -> Arc<Self> {
        Arc::new(Self {
            script,
            build,
            state: Mutex::default(),
            gpu: tokio::sync::Mutex::new(()),
            renders: AtomicUsize::new(0),
        })
    }

    /// Renders started so far (interrupted ones included).
    pub fn renders(&self) -> usize {
        self.renders.load(Ordering::SeqCst)
    }

    /// The bodies of every `POST /interrupt`.
    pub fn interrupts(&self) -> Vec<Value> {
        self.state.lock().unwrap().interrupts.clone()
    }

    /// Ids named in `POST /history {"delete"}`.
    pub fn forgotten(&self) -> Vec<String> {
        self.state.lock().unwrap().forgotten.clone()
    }

    /// Ids named in `POST /queue {"delete"}`.
    pub fn unqueued(&self) -> Vec<String> {
        self.state.lock().unwrap().unqueued.clone()
    }

    /// Ids in the history now.
    pub fn history_ids(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.history.iter().map(|(id, _)| id.clone()).collect()
    }

    /// The id of the prompt rendering now.
    pub fn running(&self) -> Option<String> {
        let s = self.state.lock().unwrap();
        s.running.as_ref().map(|(p, _)| p.id.clone())
    }
}

/// The ComfyUI (a current build) and Venice routes on `script`.
pub fn router(script: Arc<Script>) -> Router {
    routes(Comfy::new(script, Build::Current))
}

/// The ComfyUI and Venice routes on `comfy`.
pub fn routes(comfy: Arc<Comfy>) -> Router {
    Router::new()
        .route("/prompt", post(http::queue_prompt))
        .route("/history/{id}", get(http::history))
        .route("/history", post(http::delete_history))
        .route("/view", get(http::view))
        .route("/queue", get(http::queue).post(http::delete))
        .route("/interrupt", post(http::interrupt))
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
