//! The ComfyUI server's HTTP routes fn-image calls: `POST /prompt` (queue a graph; the answer
//! names the prompt), `GET /history/{id}`, `GET /queue`, `GET /view` (the image), and the
//! three that clean up — `POST /queue {"delete"}` (drop a pending prompt), `POST /interrupt
//! {"prompt_id"}` (stop the running one) and `POST /history {"delete"}` (forget a finished
//! one). Errors are classified by `runtime::http`.

use runtime::telemetry::hops::{self, Part};
use std::time::Duration;

use runtime::HandlerError;
use runtime::http::{Timed, success, unanswered};
use serde_json::{Value, json};

use super::reading::{Outcome, Output, outcome};

/// The longest a clean-up call may take (it runs when a job is over, not for a user).
const CLEAN_UP: Duration = Duration::from_secs(15);

/// A ComfyUI server.
pub struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    /// A client for the server at `url` (no trailing slash).
    pub fn new(http: reqwest::Client, url: String) -> Self {
        Self { http, url }
    }

    async fn get_json(&self, path: &str) -> Result<Value, HandlerError> {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .timed("image")
            .await
            .map_err(|e| unanswered("comfyui", e))?;
        success(resp, "comfyui")
            .await?
            .json()
            .await
            .map_err(|e| HandlerError::transient(format!("comfyui answer is not JSON: {e}")))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<reqwest::Response, HandlerError> {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .json(body)
            .timed("image")
            .await
            .map_err(|e| unanswered("comfyui", e))?;
        success(resp, "comfyui").await
    }

    /// `POST /prompt`: queues `body`; the prompt id the server answered with (`None` when its
    /// answer names none).
    pub async fn queue_prompt(&self, body: &Value) -> Result<Option<String>, HandlerError> {
        let answer: Value = self
            .post("/prompt", body)
            .await?
            .json()
            .await
            .map_err(|e| HandlerError::transient(format!("comfyui answer is not JSON: {e}")))?;
        Ok(answer["prompt_id"].as_str().map(str::to_owned))
    }

    /// Prompt `id`'s entry in the history.
    pub async fn history(&self, id: &str) -> Result<Outcome, HandlerError> {
        Ok(outcome(
            &self.get_json(&format!("/history/{id}")).await?,
            id,
        ))
    }

    /// The queue: `{"queue_running": [...], "queue_pending": [...]}`.
    pub async fn queue(&self) -> Result<Value, HandlerError> {
        self.get_json("/queue").await
    }

    /// The bytes of an image a prompt wrote.
    pub async fn view(&self, out: &Output) -> Result<Vec<u8>, HandlerError> {
        let query = [
            ("filename", out.filename.as_str()),
            ("subfolder", out.subfolder.as_str()),
            ("type", out.kind.as_str()),
        ];
        let resp = self
            .http
            .get(format!("{}/view", self.url))
            .query(&query)
            .timed("image")
            .await
            .map_err(|e| unanswered("comfyui", e))?;
        let bytes = hops::part(Part::Outside, success(resp, "comfyui").await?.bytes())
            .await
            .map_err(|e| unanswered("comfyui", e))?;
        Ok(bytes.to_vec())
    }

    async fn clean_up(&self, path: &str, body: Value) -> Result<(), HandlerError> {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .timeout(CLEAN_UP)
            .json(&body)
            .timed("image")
            .await
            .map_err(|e| unanswered("comfyui", e))?;
        success(resp, "comfyui").await.map(drop)
    }

    /// Drops pending prompt `id` from the queue (a running one stays).
    pub async fn unqueue(&self, id: &str) -> Result<(), HandlerError> {
        self.clean_up("/queue", json!({"delete": [id]})).await
    }

    /// Stops the running prompt. Builds that read the body stop it only if `id` is the one
    /// running; older ones stop whatever runs, so call it only when the queue showed `id`
    /// running (on an old build, a prompt that finished within that round trip leaves the
    /// next one to be stopped: a window of milliseconds).
    pub async fn interrupt(&self, id: &str) -> Result<(), HandlerError> {
        self.clean_up("/interrupt", json!({"prompt_id": id})).await
    }

    /// Forgets finished prompt `id` (its history entry; the image file stays).
    pub async fn forget(&self, id: &str) -> Result<(), HandlerError> {
        self.clean_up("/history", json!({"delete": [id]})).await
    }
}
