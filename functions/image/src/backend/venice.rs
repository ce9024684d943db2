//! Venice `POST {base}/image/generate`: prompts, size (at most 1280 a side), steps, CFG and a
//! seed in Venice's range, safe mode off (the bot's own rules decide what is shown); the
//! first image of the JSON answer. A content-policy refusal (422, or the
//! `x-venice-is-content-violation` header) is final.

use std::time::Duration;

use companion::jobs::ImageJob;
use runtime::HandlerError;
use runtime::config::{Env, Secret};
use runtime::http::{Timed, success, unanswered};
use serde::Deserialize;

use super::{base64_image, client};

/// Venice's largest side.
const MAX_SIDE: u32 = 1280;
/// Venice's seed range is ±999999999.
const SEED_RANGE: i64 = 999_999_999;

/// Venice image settings.
#[derive(Debug, Clone)]
pub struct VeniceSettings {
    /// API base URL (`VENICE_IMAGE_BASE_URL`, else `VENICE_API_BASE_URL`).
    pub base_url: String,
    /// Bearer key.
    pub api_key: Secret,
    /// Image model (`VENICE_IMAGE_MODEL`).
    pub model: String,
    /// Sampling steps.
    pub steps: u32,
    /// CFG scale.
    pub cfg_scale: f32,
    /// Whole-call timeout.
    pub timeout: Duration,
}

impl VeniceSettings {
    /// Reads the Venice settings.
    pub fn read(env: &mut Env, steps: u32, cfg_scale: f32, timeout: Duration) -> Self {
        let api_base = env.url("VENICE_API_BASE_URL", "https://api.venice.ai/api/v1");
        let base_url = env.url("VENICE_IMAGE_BASE_URL", &api_base);
        let api_key = env.optional_secret("VENICE_API_KEY");
        if api_key.is_empty() {
            env.problem("IMAGE_API_KIND=venice needs VENICE_API_KEY");
        }
        Self {
            base_url,
            api_key,
            model: env.string("VENICE_IMAGE_MODEL", "lustify-sdxl"),
            steps,
            cfg_scale,
            timeout,
        }
    }
}

/// The client.
pub struct Venice {
    http: reqwest::Client,
    s: VeniceSettings,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    images: Vec<String>,
}

impl Venice {
    /// Builds the client.
    pub fn new(s: VeniceSettings) -> Result<Self, String> {
        Ok(Self {
            http: client(s.timeout)?,
            s,
        })
    }

    /// Renders the job's picture.
    pub async fn generate(&self, job: &ImageJob) -> Result<Vec<u8>, HandlerError> {
        let body = serde_json::json!({
            "model": self.s.model,
            "prompt": job.prompt,
            "negative_prompt": job.negative_prompt,
            "width": job.width.min(MAX_SIDE),
            "height": job.height.min(MAX_SIDE),
            "steps": self.s.steps,
            "cfg_scale": self.s.cfg_scale,
            "seed": job.seed % SEED_RANGE,
            "variants": 1,
            "safe_mode": false,
            "hide_watermark": true,
            "format": "png",
            "return_binary": false,
        });
        let url = format!("{}/image/generate", self.s.base_url.trim_end_matches('/'));
        let resp = self
            .http
            .post(url)
            .bearer_auth(self.s.api_key.expose())
            .json(&body)
            .timed("image")
            .await
            .map_err(|e| unanswered("venice image", e))?;
        let resp = success(resp, "venice image").await?;
        let flagged = |h: &str| {
            resp.headers()
                .get(h)
                .is_some_and(|v| v.as_bytes() == b"true")
        };
        if flagged("x-venice-is-content-violation") {
            return Err(HandlerError::permanent(
                "venice refused the prompt (content policy)",
            ));
        }
        let answer: Answer = resp.json().await.map_err(|e| {
            HandlerError::transient(format!("venice image answer is not JSON: {e}"))
        })?;
        let first = answer
            .images
            .into_iter()
            .next()
            .ok_or_else(|| HandlerError::transient("venice returned no image"))?;
        base64_image(&first)
    }
}
