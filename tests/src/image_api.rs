//! Automatic1111-compatible stand-in: `POST /sdapi/v1/txt2img` answers with a real PNG of the
//! requested size (a gradient derived from the seed), base64 in `images`, and `info` as a JSON
//! string, like the real server. The same server speaks ComfyUI and Venice (`crate::comfy`). Like A1111 it renders one picture at a time (requests queue).
//! A scripted `size` answers a picture of another size, e.g. a huge one, so the shrink path
//! runs end to end. `GET /sdapi/v1/progress` reports idle.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;

use crate::picture::picture;
use crate::script::{Script, Step};

/// The router.
pub fn router(script: Arc<Script>) -> Router {
    Router::new()
        .route("/sdapi/v1/txt2img", post(txt2img))
        .route("/sdapi/v1/progress", get(|| async {
            Json(serde_json::json!({"progress": 0.0, "eta_relative": 0.0, "state": {"job_count": 0}, "current_image": null, "textinfo": null}))
        }))
        .route("/_requests", get(|State(s): State<Arc<Script>>| async move { Json(s.requests()) }))
        .route("/_script", post(|State(s): State<Arc<Script>>, Json(steps): Json<Vec<Step>>| async move { s.push(steps) }))
        .with_state(script.clone())
        .merge(crate::comfy::router(script))
}

async fn txt2img(State(script): State<Arc<Script>>, body: axum::body::Bytes) -> Response {
    let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    // A1111 has one GPU worker: requests wait their turn.
    let _gpu = script.worker.lock().await;
    let step = script.begin(req.clone()).await;
    if let Some(r) = step.response() {
        return r;
    }
    let dim = |k: &str| req[k].as_u64().unwrap_or(512).clamp(8, 1024) as u32;
    let (w, h) = step.size.unwrap_or((dim("width"), dim("height")));
    let seed = req["seed"].as_i64().filter(|s| *s >= 0).unwrap_or(1234);
    let png = picture(w, h, seed);
    let info = serde_json::json!({
        "prompt": req["prompt"], "all_prompts": [req["prompt"]], "negative_prompt": req["negative_prompt"],
        "seed": seed, "all_seeds": [seed], "width": w, "height": h, "sampler_name": req["sampler_name"],
        "cfg_scale": req["cfg_scale"], "steps": req["steps"], "sd_model_name": "stand-in", "infotexts": [""],
        "job_timestamp": chrono::Utc::now().format("%Y%m%d%H%M%S").to_string(),
    });
    Json(serde_json::json!({
        "images": [base64::engine::general_purpose::STANDARD.encode(png)],
        "parameters": req,
        "info": info.to_string(),
    }))
    .into_response()
}
