//! Automatic1111 `POST /sdapi/v1/txt2img`: sends the job's prompts, seed and size, returns the
//! first image's bytes. (A1111's `/sdapi/v1/progress` describes whichever job it is running,
//! not ours, so it does not feed the job's status.)

use runtime::telemetry::hops::{self, Part};
use std::time::Duration;

use companion::jobs::ImageJob;
use runtime::HandlerError;
use runtime::http::{Timed, success, unanswered};
use serde::Deserialize;

use super::{base64_image, client};

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

impl A1111 {
    /// Builds the client.
    pub fn new(s: A1111Settings) -> Result<Self, String> {
        Ok(Self {
            http: client(s.timeout)?,
            s,
        })
    }

    /// Renders the job's picture; returns encoded image bytes (PNG as A1111 sends them).
    pub async fn txt2img(&self, job: &ImageJob) -> Result<Vec<u8>, HandlerError> {
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
        let resp = self
            .http
            .post(url)
            .json(&body)
            .timed("image")
            .await
            .map_err(|e| unanswered("image api", e))?;
        let answer: Answer = hops::part(Part::Outside, success(resp, "image api").await?.json())
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
}
