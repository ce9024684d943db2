//! fn-image: renders the picture an image job describes on the configured backend
//! (Automatic1111, ComfyUI or Venice; "sending a photo…" shown meanwhile), prepares it for
//! Telegram, and commits it, keyed by job id in `photos`, with the counters, the photo slot
//! marked used, the history line that tells the persona she sent it, and the photo message (a
//! reply to the message it illustrates, captioned, with 🔄 another one) that fn-send uploads.
//! A redelivered job whose photo was committed only re-publishes, so nobody gets (or is charged
//! for) the same picture twice, nothing is rendered twice (a backend with a queue finds the
//! render an earlier delivery queued), and failures are never counted: a job given up gives
//! its slot back and has its render stopped.

pub mod backend;
pub mod photo;
pub mod store;

use std::time::Duration;

use companion::content::safety;
use companion::jobs::ImageJob;
use companion::jobs::sorry;
use companion::locale::Lang;
use companion::ui::keyboards::{photo_again_button, photo_button};
use runtime::HandlerError;
use runtime::app::{Deps, FromEnv};
use runtime::config::Env;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::IMAGE_STAGE;
use runtime::runner::Notice;
use runtime::runner::Stage;

use crate::backend::{Backend, BackendSettings};
use crate::photo::Prepared;

/// "sending a photo…" while the picture renders: first after a second (the user was just told
/// the photo is coming, and a quick picture needs no action), then every four.
const UPLOADING: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(4));

/// fn-image settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The image backend.
    pub backend: BackendSettings,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        Self {
            backend: BackendSettings::read(env),
        }
    }
}

/// The image stage.
pub struct Image {
    deps: Deps,
    backend: Backend,
    decode: tokio::sync::Semaphore,
}

impl Image {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            backend: Backend::new(s.backend)?,
            deps,
            decode: tokio::sync::Semaphore::new(cores),
        })
    }

    /// Decodes and bounds the picture, at most one per core at a time (CPU and memory heavy).
    async fn prepare(&self, raw: Vec<u8>) -> Result<Prepared, HandlerError> {
        let _cpu = self
            .decode
            .acquire()
            .await
            .map_err(|e| HandlerError::transient(e.to_string()))?;
        tokio::task::spawn_blocking(move || photo::prepare(&raw))
            .await
            .map_err(|e| HandlerError::transient(format!("image task: {e}")))?
            // A picture that cannot be read will not read better next time.
            .map_err(|e| HandlerError::permanent(e.to_string()))
    }

    /// Stores the photo, counts it and decides its message, once per job.
    async fn record(
        &self,
        env: &Envelope<ImageJob>,
        picture: Prepared,
    ) -> Result<store::Recorded, HandlerError> {
        let job = &env.payload;
        let mut tx = self.deps.pool.begin().await?;
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        let again = photo_again_button(job.lang, job.dialog_id);
        let effect = d.photo(job.chat_id, picture.bytes, &job.caption, &again);
        d.replying_to(job.reply_to);
        d.completes(env.id);
        let recorded = store::record(&mut tx, env, effect).await?;
        if recorded != store::Recorded::Fresh {
            return Ok(recorded);
        }
        let committed = d.commit(tx).await?;
        self.deps.outbox.publish(committed).await?;
        Ok(recorded)
    }
}

impl Stage for Image {
    type Input = Envelope<ImageJob>;
    const SPEC: runtime::nats::topology::StageSpec = IMAGE_STAGE;
    const CONCURRENCY: usize = 200;

    async fn handle(&self, env: Envelope<ImageJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let pool = &self.deps.pool;
        if store::stored(pool, env.id).await? {
            tracing::info!(job = %env.id, "photo already stored");
            self.deps.outbox.republish(&env.id.to_string()).await?;
            self.backend.forget(env.id, pool).await;
            return Ok(());
        }
        if let Some(hit) = safety::check_picture(&job.prompt) {
            return Err(HandlerError::permanent(format!(
                "prompt blocked by the minor-safety scan ({} rule)",
                hit.rule.as_str()
            )));
        }
        let outbox = &self.deps.outbox;
        let _uploading = outbox.keep_action(job.chat_id, "upload_photo", &env.trace_id, UPLOADING);
        let raw = self.backend.render(job, env.id, pool).await?;
        let picture = self.prepare(raw).await?;
        tracing::info!(job = %env.id, width = picture.width, height = picture.height, jpeg = picture.jpeg, "photo ready");
        match self.record(&env, picture).await? {
            store::Recorded::Fresh => {}
            store::Recorded::Before => self.deps.outbox.republish(&env.id.to_string()).await?,
            store::Recorded::Gone => {
                tracing::info!(job = %env.id, "the dialog is gone; the photo is not sent");
            }
        }
        self.backend.forget(env.id, pool).await;
        Ok(())
    }

    fn failure_notice(env: Option<&Envelope<ImageJob>>) -> Option<Notice> {
        match env {
            Some(env) => sorry(
                env.payload.lang,
                photo_button(env.payload.lang, env.payload.dialog_id),
            ),
            None => sorry(Lang::En, Vec::new()),
        }
    }

    async fn abandoned(&self, env: Envelope<ImageJob>) {
        if let Err(e) = companion::photos::release(&self.deps.pool, env.id).await {
            tracing::warn!(job = %env.id, error = %e, "photo slot not given back");
        }
        self.backend.abandon(env.id, &self.deps.pool).await;
    }
}
