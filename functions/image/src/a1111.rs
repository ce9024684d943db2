//! Automatic1111 `POST /sdapi/v1/txt2img` client: sends the job's prompts, seed and size,
//! returns the first image's bytes. Errors are classified by `shared::http`: connection
//! trouble, timeouts, 429 and 5xx retry; other 4xx are permanent; a garbled answer retries.

use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use shared::HandlerError;
use shared::envelope::ImageJob;

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
        let http = reqwest::Client::builder()
            .timeout(s.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http, s })
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
            .send()
            .await
            .map_err(|e| HandlerError::transient(format!("image api request: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            let delay = shared::http::delay_of(resp.headers());
            let text = shared::http::error_body(resp).await;
            let reason = format!("image api answered {status}: {text}");
            return Err(shared::http::classify(status.as_u16(), delay, reason));
        }
        let answer: Answer = resp.json().await.map_err(|e| {
            HandlerError::transient(format!("image api answer is not txt2img JSON: {e}"))
        })?;
        let first = answer
            .images
            .into_iter()
            .next()
            .ok_or_else(|| HandlerError::transient("image api returned no image"))?;
        let b64 = first
            .split_once("base64,")
            .map(|(_, b)| b)
            .unwrap_or(&first);
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| HandlerError::transient(format!("image api sent bad base64: {e}")))
    }
}
