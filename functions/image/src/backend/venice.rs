//! Venice `POST {base}/image/generate`: prompts within the model's character limit (most
//! important tags kept, `fit`), the size scaled into 1280 a side on the model's divisor, steps,
//! CFG and a seed in Venice's range, safe mode off (the bot's own rules decide what is shown);
//! the first image of the JSON answer. A content-policy refusal (422, or the
//! `x-venice-is-content-violation` header) is final.

use runtime::telemetry::hops::{self, Part};
use std::time::Duration;

use companion::jobs::ImageJob;
use runtime::HandlerError;
use runtime::config::{Env, Secret};
use runtime::http::{Timed, success, unanswered};
use serde::Deserialize;

use super::{base64_image, client};

mod fit;

use fit::{Keep, cap_prompt, fit_size};

/// Venice's largest side.
const MAX_SIDE: u32 = 1280;
/// Venice's seed range is ±999999999.
const SEED_RANGE: i64 = 999_999_999;
/// The shortest prompt limit accepted: the minor-related negative terms must always fit.
const MIN_PROMPT_MAX: usize = 300;
/// Venice's schema caps every prompt at this.
const MAX_PROMPT_MAX: usize = 7500;

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
    /// The model's prompt limit in characters (`VENICE_IMAGE_PROMPT_MAX`).
    pub prompt_max: usize,
    /// What width and height must divide by (`VENICE_IMAGE_DIVISOR`).
    pub divisor: u32,
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
        // lustify-sdxl's `promptCharacterLimit`; room for the minor-related negative terms.
        let prompt_max = env.parse("VENICE_IMAGE_PROMPT_MAX", 1500usize);
        if !(MIN_PROMPT_MAX..=MAX_PROMPT_MAX).contains(&prompt_max) {
            env.problem(format!(
                "VENICE_IMAGE_PROMPT_MAX={prompt_max} must be between {MIN_PROMPT_MAX} and {MAX_PROMPT_MAX}"
            ));
        }
        // SDXL models' `widthHeightDivisor` on Venice.
        let divisor = env.parse("VENICE_IMAGE_DIVISOR", 8u32);
        if !(1..=128).contains(&divisor) {
            env.problem(format!(
                "VENICE_IMAGE_DIVISOR={divisor} must be between 1 and 128"
            ));
        }
        Self {
            base_url,
            api_key,
            model: env.string("VENICE_IMAGE_MODEL", "lustify-sdxl"),
            steps,
            cfg_scale,
            timeout,
            prompt_max,
            divisor,
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
        let max = self.s.prompt_max;
        let prompt = cap_prompt(&job.prompt, max, Keep::Head);
        let negative_prompt = cap_prompt(&job.negative_prompt, max, Keep::Tail);
        if prompt.len() < job.prompt.trim().len() {
            tracing::info!(
                chars = job.prompt.chars().count(),
                max,
                "the prompt is cut to the model's limit"
            );
        }
        let (width, height) = fit_size(job.width, job.height, MAX_SIDE, self.s.divisor);
        let body = serde_json::json!({
            "model": self.s.model,
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "width": width,
            "height": height,
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
        let answer: Answer = hops::part(Part::Outside, resp.json()).await.map_err(|e| {
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
