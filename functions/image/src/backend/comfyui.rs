//! ComfyUI: the workflow file (`COMFYUI_WORKFLOW`, placeholders filled in by [`workflow`]) is
//! queued with `POST /prompt`, and the prompt id the server answers with — builds from about
//! mid-2025 take the job's id, which is sent as `prompt_id`; older ones choose their own — is
//! recorded on the job's slot row before it is watched through `GET /history/{id}`; its first
//! output image is fetched with `GET /view`. Nothing is rendered twice: a redelivered job
//! looks for its recorded prompt in the queue and the history and waits for it or takes its
//! image, and queues anew only when the server does not know it (e.g. after a restart). A
//! delivery that stopped between queueing and recording left a mark without an id: the next
//! one looks for a prompt under the job's id, or with the job's id as `client_id` in the
//! queue. Residual gap, old builds only: that prompt already finished when the next delivery
//! looks, so it is rendered once more (the crash must fall in the milliseconds between the
//! server's answer and the record).
//!
//! A prompt unfinished `COMFYUI_MAX_SECS` after it was queued is given up, and a job given up
//! for any reason has its prompt dropped from the queue if pending, or interrupted (by id)
//! if the queue shows it running. Once the photo is stored its history entry is deleted,
//! unless `COMFYUI_KEEP_HISTORY=true`.

mod api;
pub mod reading;
pub mod workflow;

use runtime::telemetry::hops::{self, Part};
use std::time::{Duration, Instant};

use companion::jobs::ImageJob;
use runtime::HandlerError;
use runtime::config::Env;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use self::api::Api;
use self::reading::{Outcome, Output, Place};
pub use self::workflow::fill;
use super::client;
use crate::store::{self, Render};

/// How often the history is read while a prompt runs.
const POLL: Duration = Duration::from_millis(500);
/// Every this many history reads, the queue is asked whether the prompt is still there.
const QUEUE_CHECK: u32 = 10;
/// How often a pending prompt is looked for again when dropping it (it may start meanwhile).
const CANCEL_TRIES: usize = 3;

/// ComfyUI settings.
#[derive(Debug, Clone)]
pub struct ComfySettings {
    /// Server base URL.
    pub url: String,
    /// The workflow, placeholders still in.
    pub workflow: Value,
    /// Sampling steps.
    pub steps: u32,
    /// CFG scale.
    pub cfg_scale: f32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Longest a prompt may take, from when it was queued, before it is given up.
    pub max_wait: Duration,
    /// Keep a prompt's history entry once its photo is stored (`COMFYUI_KEEP_HISTORY`).
    pub keep_history: bool,
}

impl ComfySettings {
    /// Reads the ComfyUI settings and the workflow file.
    pub fn read(env: &mut Env, steps: u32, cfg_scale: f32, timeout: Duration) -> Self {
        let url = env.url("IMAGE_API_URL", "http://127.0.0.1:8188");
        let path = env.string("COMFYUI_WORKFLOW", "infra/comfyui/txt2img.json");
        let workflow =
            match std::fs::read_to_string(&path).map(|t| serde_json::from_str::<Value>(&t)) {
                Ok(Ok(w)) if w.to_string().contains("{{prompt}}") => w,
                Ok(Ok(_)) => {
                    env.problem(format!(
                        "COMFYUI_WORKFLOW={path} has no {{{{prompt}}}} placeholder"
                    ));
                    Value::Null
                }
                Ok(Err(e)) => {
                    env.problem(format!("COMFYUI_WORKFLOW={path} is not JSON: {e}"));
                    Value::Null
                }
                Err(e) => {
                    env.problem(format!("COMFYUI_WORKFLOW={path} cannot be read: {e}"));
                    Value::Null
                }
            };
        Self {
            url,
            workflow,
            steps,
            cfg_scale,
            timeout,
            max_wait: Duration::from_secs(env.parse("COMFYUI_MAX_SECS", 600)),
            keep_history: env.parse("COMFYUI_KEEP_HISTORY", false),
        }
    }
}

/// The client.
pub struct ComfyUi {
    api: Api,
    s: ComfySettings,
}

impl ComfyUi {
    /// Builds the client.
    pub fn new(s: ComfySettings) -> Result<Self, String> {
        Ok(Self {
            api: Api::new(client(s.timeout)?, s.url.clone()),
            s,
        })
    }

    /// Renders job `id`: waits for the prompt an earlier delivery queued if the server still
    /// has it, else queues one; returns the picture's bytes.
    pub async fn render(
        &self,
        job: &ImageJob,
        id: Uuid,
        pool: &PgPool,
    ) -> Result<Vec<u8>, HandlerError> {
        let client = id.to_string();
        let kept = store::render(pool, id).await?;
        let found = match &kept {
            Some(k) => self.find(k, &client).await?,
            None => None,
        };
        let (prompt, age) = match (found, kept) {
            (Some(prompt), Some(k)) => {
                tracing::info!(job = %id, %prompt, "waiting for the prompt queued before");
                if k.id.as_deref() != Some(prompt.as_str()) {
                    store::render_queued(pool, id, &prompt).await?;
                }
                (prompt, k.age)
            }
            // A copy handling the job at the same time stored the photo, then had the server
            // forget the prompt: the next delivery finds the photo.
            (None, Some(_)) if store::stored(pool, id).await? => {
                return Err(HandlerError::transient("the photo was stored meanwhile"));
            }
            _ => (self.queue(job, id, pool).await?, Duration::ZERO),
        };
        let deadline = Instant::now() + self.s.max_wait.saturating_sub(age);
        // The render's wait, polls and pauses included, is the outside call's time.
        let output = hops::part(Part::Outside, self.wait(&prompt, deadline)).await?;
        self.api.view(&output).await
    }

    /// The server's id of the prompt an earlier delivery queued (`k`), if the server has it
    /// queued, running or finished well (a failed one is rendered again: only a retry of a
    /// given-up job comes back to it). The queue is read before the history: a prompt moves
    /// from one to the other at once, so reading in this order never misses it.
    async fn find(&self, k: &Render, client: &str) -> Result<Option<String>, HandlerError> {
        let id = k.id.as_deref().unwrap_or(client);
        match reading::place(&self.api.queue().await?, id, Some(client)) {
            Place::Running(p) | Place::Pending(p) => return Ok(Some(p)),
            Place::Absent => {}
        }
        Ok(match self.api.history(id).await? {
            Outcome::NotYet | Outcome::Failed(_) => None,
            Outcome::Done(_) => Some(id.to_owned()),
        })
    }

    /// Queues the job's prompt: the mark first, then the call, then the server's id recorded
    /// (each an autocommit statement; no transaction is open during the call).
    async fn queue(&self, job: &ImageJob, id: Uuid, pool: &PgPool) -> Result<String, HandlerError> {
        let client = id.to_string();
        if !store::render_queueing(pool, id).await? {
            tracing::info!(job = %id, "the job has no slot row; its prompt id is not kept");
        }
        let body = serde_json::json!({
            "prompt": fill(&self.s.workflow, job, self.s.steps, self.s.cfg_scale),
            "client_id": client,
            "prompt_id": client,
        });
        let prompt = match self.api.queue_prompt(&body).await? {
            Some(p) => p,
            None => {
                tracing::warn!(job = %id, "comfyui named no prompt id; watching the one sent");
                client
            }
        };
        store::render_queued(pool, id, &prompt).await?;
        tracing::info!(job = %id, %prompt, "prompt queued");
        Ok(prompt)
    }

    /// Waits until prompt `prompt` finished, until `deadline`. A prompt the server no longer
    /// has (restarted, cleared) is a passing error: the next delivery queues it again.
    async fn wait(&self, prompt: &str, deadline: Instant) -> Result<Output, HandlerError> {
        let mut reads = 0u32;
        loop {
            match self.api.history(prompt).await? {
                Outcome::Done(out) => return Ok(out),
                Outcome::Failed(why) => return Err(HandlerError::permanent(why)),
                Outcome::NotYet => {}
            }
            if Instant::now() >= deadline {
                return Err(HandlerError::permanent(format!(
                    "comfyui prompt {prompt} unfinished after {:?}",
                    self.s.max_wait
                )));
            }
            reads += 1;
            if reads.is_multiple_of(QUEUE_CHECK) && !self.known(prompt).await? {
                return Err(HandlerError::transient(format!(
                    "comfyui no longer has prompt {prompt}"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the server has prompt `prompt` queued, running or finished.
    async fn known(&self, prompt: &str) -> Result<bool, HandlerError> {
        if reading::place(&self.api.queue().await?, prompt, None) != Place::Absent {
            return Ok(true);
        }
        Ok(self.api.history(prompt).await? != Outcome::NotYet)
    }

    /// After job `id`'s photo is stored: deletes its prompt's history entry (unless kept).
    pub async fn forget(&self, id: Uuid, pool: &PgPool) {
        if self.s.keep_history {
            return;
        }
        let prompt = match store::render(pool, id).await {
            Ok(Some(Render { id: Some(p), .. })) => p,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "prompt id not read; history kept");
                return;
            }
        };
        match self.api.forget(&prompt).await {
            Ok(()) => tracing::debug!(job = %id, %prompt, "history entry deleted"),
            Err(e) => tracing::warn!(job = %id, %prompt, error = %e, "history entry kept"),
        }
    }

    /// Job `id` was given up: its prompt is dropped from the queue if pending (looked for
    /// again, as it may have started meanwhile), or interrupted if the queue shows it running;
    /// then the job's render is forgotten, so a retry from `/admin` queues afresh with its
    /// whole time limit.
    pub async fn abandon(&self, id: Uuid, pool: &PgPool) {
        let kept = match store::render(pool, id).await {
            Ok(Some(k)) => k,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "prompt id not read; prompt left alone");
                return;
            }
        };
        self.cancel(id, &kept).await;
        if let Err(e) = store::render_dropped(pool, id).await {
            tracing::warn!(job = %id, error = %e, "the given-up render is still recorded");
        }
    }

    /// Takes job `id`'s prompt off the queue, or interrupts it when it runs.
    async fn cancel(&self, id: Uuid, kept: &Render) {
        let client = id.to_string();
        let prompt = kept.id.as_deref().unwrap_or(&client);
        for _ in 0..CANCEL_TRIES {
            let queue = match self.api.queue().await {
                Ok(q) => q,
                Err(e) => {
                    tracing::warn!(job = %id, error = %e, "queue not read; prompt left alone");
                    return;
                }
            };
            match reading::place(&queue, prompt, Some(&client)) {
                Place::Absent => return,
                Place::Running(p) => {
                    match self.api.interrupt(&p).await {
                        Ok(()) => tracing::info!(job = %id, prompt = %p, "prompt interrupted"),
                        Err(e) => tracing::warn!(job = %id, error = %e, "prompt not interrupted"),
                    }
                    return;
                }
                Place::Pending(p) => match self.api.unqueue(&p).await {
                    Ok(()) => tracing::info!(job = %id, prompt = %p, "prompt taken off the queue"),
                    Err(e) => {
                        tracing::warn!(job = %id, error = %e, "prompt left in the queue");
                        return;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;
