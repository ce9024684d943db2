//! fn-image: renders the picture an image job describes and commits it, keyed by job id in
//! `photos`, with the counters and the photo message (an effect fn-send uploads). A redelivered
//! job whose photo was committed only re-publishes, so nobody gets (or is charged for) the same
//! picture twice, nothing is rendered twice, and failures are never counted.

pub mod a1111;
pub mod photo;
pub mod store;

use std::time::Duration;

use shared::app::{Deps, FromEnv};
use shared::config::Env;
use shared::effects::Decision;
use shared::envelope::{Envelope, ImageJob};
use shared::keyboards::photo_button;
use shared::runner::Stage;
use shared::topology::IMAGE_STAGE;
use shared::{HandlerError, safety};

use crate::a1111::{A1111, A1111Settings};

/// fn-image settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Image API.
    pub a1111: A1111Settings,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        let kind = env.string("IMAGE_API_KIND", "a1111");
        if kind != "a1111" {
            env.problem(format!(
                "IMAGE_API_KIND={kind:?} is not supported yet (supported: a1111)"
            ));
        }
        Self {
            a1111: A1111Settings {
                url: env.url("IMAGE_API_URL", "http://127.0.0.1:7860"),
                steps: env.parse("IMAGE_STEPS", 28),
                cfg_scale: env.parse("IMAGE_CFG_SCALE", 6.5),
                sampler: env.string("IMAGE_SAMPLER", "DPM++ 2M"),
                timeout: Duration::from_secs(env.parse("IMAGE_TIMEOUT_SECS", 300)),
            },
        }
    }
}

/// The image stage.
pub struct Image {
    deps: Deps,
    api: A1111,
    decode: tokio::sync::Semaphore,
}

impl Image {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            api: A1111::new(s.a1111)?,
            deps,
            decode: tokio::sync::Semaphore::new(cores),
        })
    }

    /// Stores the photo, counts it and decides its message, once per job; `false` when a
    /// copy that raced us stored it first.
    async fn record(&self, env: &Envelope<ImageJob>, png: Vec<u8>) -> Result<bool, HandlerError> {
        let job = &env.payload;
        let mut tx = self.deps.pool.begin().await?;
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        let effect = d.photo(job.chat_id, png, "", &photo_button(job.lang, job.dialog_id));
        d.completes(env.id);
        if !store::record(&mut tx, env, effect).await? {
            return Ok(false);
        }
        let committed = d.commit(tx).await?;
        self.deps.outbox.publish(committed).await?;
        Ok(true)
    }
}

impl Stage for Image {
    type Input = Envelope<ImageJob>;
    const SPEC: shared::topology::StageSpec = IMAGE_STAGE;
    const CONCURRENCY: usize = 200;

    async fn handle(&self, env: Envelope<ImageJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        if store::stored(&self.deps.pool, env.id).await? {
            tracing::info!(job = %env.id, "photo already stored");
            return self.deps.outbox.republish(&env.id.to_string()).await;
        }
        if let Some(term) = safety::minor_term(&job.prompt) {
            return Err(HandlerError::permanent(format!(
                "prompt blocked by the safety filter ({term})"
            )));
        }
        let raw = self.api.txt2img(job).await?;
        // Decoding a large picture is CPU and memory heavy: at most one per core at a time.
        let cpu = self
            .decode
            .acquire()
            .await
            .map_err(|e| HandlerError::transient(e.to_string()))?;
        let png = tokio::task::spawn_blocking(move || photo::to_telegram_png(&raw))
            .await
            .map_err(|e| HandlerError::transient(format!("image task: {e}")))?
            .map_err(|e| HandlerError::transient(e.to_string()))?;
        drop(cpu);
        if !self.record(&env, png).await? {
            return self.deps.outbox.republish(&env.id.to_string()).await;
        }
        Ok(())
    }
}
