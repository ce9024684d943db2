//! The image backend seam, chosen by `IMAGE_API_KIND`: Automatic1111 (`a1111`), ComfyUI
//! (`comfyui`, a workflow file with placeholders) or Venice (`venice`). Each renders one job
//! and returns the encoded picture; errors are classified once, by `runtime::http`. A backend
//! whose server keeps a queue (ComfyUI) records its render on the job's slot row, so a
//! redelivery waits for it, and cleans up on the server when the job is over.

pub mod a1111;
pub mod comfyui;
pub mod venice;

use std::time::Duration;

use companion::jobs::ImageJob;
use runtime::HandlerError;
use runtime::config::Env;
use sqlx::PgPool;
use uuid::Uuid;

/// Settings of every backend; only the chosen one is used.
#[derive(Debug, Clone)]
pub enum BackendSettings {
    /// Automatic1111.
    A1111(a1111::A1111Settings),
    /// ComfyUI.
    ComfyUi(comfyui::ComfySettings),
    /// Venice.
    Venice(venice::VeniceSettings),
}

impl BackendSettings {
    /// Reads `IMAGE_API_KIND` and its settings.
    pub fn read(env: &mut Env) -> Self {
        let kind = env.string("IMAGE_API_KIND", "a1111");
        let steps = env.parse("IMAGE_STEPS", 28u32);
        let cfg_scale = env.parse("IMAGE_CFG_SCALE", 6.5f32);
        let timeout = Duration::from_secs(env.parse("IMAGE_TIMEOUT_SECS", 300));
        match kind.as_str() {
            "comfyui" => BackendSettings::ComfyUi(comfyui::ComfySettings::read(
                env, steps, cfg_scale, timeout,
            )),
            "venice" => BackendSettings::Venice(venice::VeniceSettings::read(
                env, steps, cfg_scale, timeout,
            )),
            other => {
                if other != "a1111" {
                    env.problem(format!(
                        "IMAGE_API_KIND={other:?} is not one of a1111, comfyui, venice"
                    ));
                }
                BackendSettings::A1111(a1111::A1111Settings {
                    url: env.url("IMAGE_API_URL", "http://127.0.0.1:7860"),
                    steps,
                    cfg_scale,
                    sampler: env.string("IMAGE_SAMPLER", "DPM++ 2M"),
                    timeout,
                })
            }
        }
    }
}

/// The chosen backend.
pub enum Backend {
    /// Automatic1111.
    A1111(a1111::A1111),
    /// ComfyUI.
    ComfyUi(comfyui::ComfyUi),
    /// Venice.
    Venice(venice::Venice),
}

impl Backend {
    /// Builds the client.
    pub fn new(s: BackendSettings) -> Result<Self, String> {
        Ok(match s {
            BackendSettings::A1111(s) => Backend::A1111(a1111::A1111::new(s)?),
            BackendSettings::ComfyUi(s) => Backend::ComfyUi(comfyui::ComfyUi::new(s)?),
            BackendSettings::Venice(s) => Backend::Venice(venice::Venice::new(s)?),
        })
    }

    /// Renders job `id` (`job`); the encoded picture as the backend sent it. `pool` keeps
    /// what a redelivery needs to find the render again.
    pub async fn render(
        &self,
        job: &ImageJob,
        id: Uuid,
        pool: &PgPool,
    ) -> Result<Vec<u8>, HandlerError> {
        match self {
            Backend::A1111(b) => b.txt2img(job).await,
            Backend::ComfyUi(b) => b.render(job, id, pool).await,
            Backend::Venice(b) => b.generate(job).await,
        }
    }

    /// Job `id`'s photo is stored (or will never be sent): the server may forget the render.
    pub async fn forget(&self, id: Uuid, pool: &PgPool) {
        if let Backend::ComfyUi(b) = self {
            b.forget(id, pool).await;
        }
    }

    /// Job `id` was given up: a render still queued or running on the server is stopped.
    pub async fn abandon(&self, id: Uuid, pool: &PgPool) {
        if let Backend::ComfyUi(b) = self {
            b.abandon(id, pool).await;
        }
    }
}

/// An HTTP client with a whole-call timeout.
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// Decodes base64 image data, with or without a `data:` prefix.
pub fn base64_image(data: &str) -> Result<Vec<u8>, HandlerError> {
    use base64::Engine;
    let b64 = data.split_once("base64,").map(|(_, b)| b).unwrap_or(data);
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| HandlerError::transient(format!("image api sent bad base64: {e}")))
}
