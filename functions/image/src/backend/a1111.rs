//! Automatic1111 `POST /sdapi/v1/txt2img`: sends the job's prompts, seed and size, returns the
//! first image's bytes; while it renders, `GET /sdapi/v1/progress` feeds the job's status.

use std::time::Duration;

use serde::Deserialize;
use shared::HandlerError;
use shared::envelope::ImageJob;
use shared::http::{success, unanswered};

use super::{Progress, base64_image, client};

/// How often progress is asked for while a picture renders.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Sampler settings.
#[derive(Debug, Clone)]
pub struct A1111Settings {
    /// Server base URL.
    pub url: String,
    /// Sampling steps.
    pub steps: u32,
    /// CFG scale.
    pub cfg_scale: f32,
    /// Sampler name.
    pub sampler: String,
    /// Whole-call timeout.
    pub timeout: Duration,
}

/// The client.
pub struct A1111 {
    http: reqwest::Client,
    s: A1111Settings,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    images: Vec<String>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    progress: f32,
}

impl A1111 {
    /// Builds the client.
    pub fn new(s: A1111Settings) -> Result<Self, String> {
        Ok(Self {
            http: client(s.timeout)?,
            s,
        })
    }

    /// Renders the job's picture; returns encoded image bytes (PNG as A1111 sends them).
    pub async fn txt2img(
        &self,
        job: &ImageJob,
        progress: &Progress<'_>,
    ) -> Result<Vec<u8>, HandlerError> {
        let body = serde_json::json!({
            "prompt": job.prompt,
            "negative_prompt": job.negative_prompt,
            "seed": job.seed,
            "width": job.width,
            "height": job.height,
            "steps": self.s.steps,
            "cfg_scale": self.s.cfg_scale,
            "sampler_name": self.s.sampler,
            "batch_size": 1,
            "n_iter": 1,
            "send_images": true,
            "save_images": false,
        });
        let url = format!("{}/sdapi/v1/txt2img", self.s.url);
        let call = self.http.post(url).json(&body).send();
        tokio::pin!(call);
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        tick.tick().await;
        let resp = loop {
            tokio::select! {
                resp = &mut call => break resp.map_err(|e| unanswered("image api", e))?,
                _ = tick.tick() => if let Some(p) = self.progress().await { progress.report(p).await },
            }
        };
        let answer: Answer = success(resp, "image api")
            .await?
            .json()
            .await
            .map_err(|e| {
                HandlerError::transient(format!("image api answer is not txt2img JSON: {e}"))
            })?;
        let first = answer
            .images
            .into_iter()
            .next()
            .ok_or_else(|| HandlerError::transient("image api returned no image"))?;
        base64_image(&first)
    }

    async fn progress(&self) -> Option<f32> {
        let url = format!("{}/sdapi/v1/progress?skip_current_image=true", self.s.url);
        let resp = self
            .http
            .get(url)
            .timeout(PROGRESS_EVERY)
            .send()
            .await
            .ok()?;
        resp.json::<Status>().await.ok().map(|s| s.progress)
    }
}
