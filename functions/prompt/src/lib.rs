//! fn-prompt: turns "📸 Photo" into an image job. Reads the persona's look and the latest
//! turns of the dialog, refuses (politely) when the request mentions a minor, and publishes
//! an image job under the same job id with the dialog's fixed seed. What it decides (the job,
//! or the refusal) is committed to the outbox first and published after; a redelivered job
//! only re-publishes.

pub mod scene;
pub mod store;

use shared::app::{Deps, FromEnv};
use shared::config::Env;
use shared::effects::Decision;
use shared::envelope::{Envelope, ImageJob, PromptJob};
use shared::jobs::JobState;
use shared::locale::{T, t};
use shared::runner::Stage;
use shared::topology::{IMAGE_SUBJECT, PROMPT_STAGE};
use shared::{HandlerError, safety};

/// fn-prompt settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Picture size.
    pub width: u32,
    /// Picture size.
    pub height: u32,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        let width = env.parse("IMAGE_WIDTH", 512u32);
        let height = env.parse("IMAGE_HEIGHT", 768u32);
        for (k, v) in [("IMAGE_WIDTH", width), ("IMAGE_HEIGHT", height)] {
            if !(64..=2048).contains(&v) || v % 8 != 0 {
                env.problem(format!(
                    "{k}={v} must be a multiple of 8 between 64 and 2048"
                ));
            }
        }
        Self { width, height }
    }
}

/// The prompt stage.
pub struct Prompt {
    deps: Deps,
    width: u32,
    height: u32,
}

impl Prompt {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        Ok(Self {
            deps,
            width: s.width,
            height: s.height,
        })
    }
}

impl Stage for Prompt {
    type Input = Envelope<PromptJob>;
    const SPEC: shared::topology::StageSpec = PROMPT_STAGE;
    const CONCURRENCY: usize = 64;

    async fn handle(&self, env: Envelope<PromptJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let pool = &self.deps.pool;
        let source = env.id.to_string();
        if store::decided(pool, env.id).await? {
            return self.deps.outbox.republish(&source).await;
        }
        let (look, negative, seed) = store::look(pool, job).await?;
        let recent = store::recent(pool, job.dialog_id).await?;
        let texts: Vec<String> = recent.iter().map(|(_, t)| t.clone()).collect();
        let prompt = scene::prompt(&look, &texts);
        // The request is the user's latest words; the persona's own backstory may say "as a kid".
        let asked = recent
            .iter()
            .find(|(role, _)| role == "user")
            .map(|(_, t)| t.as_str())
            .unwrap_or("");
        let mut d = Decision::new(source, env.trace_id.clone());
        if let Some(term) = safety::minor_term(&format!("{prompt}\n{asked}")) {
            tracing::warn!(job = %env.id, %term, "image blocked by the minor-terms filter");
            d.notice(job.chat_id, t(job.lang, T::PhotoBlocked), &[]);
            let committed = d.commit(pool.begin().await?).await?;
            self.deps.outbox.publish(committed).await?;
            let blocked = Some("blocked".into());
            let jobs = &self.deps.jobs;
            jobs.note(env.id, JobState::Failed, PROMPT_STAGE.name, blocked)
                .await;
            return Ok(());
        }
        let image = ImageJob {
            chat_id: job.chat_id,
            user_id: job.user_id,
            dialog_id: job.dialog_id,
            prompt,
            negative_prompt: safety::negative_prompt(&negative),
            seed,
            width: self.width,
            height: self.height,
            lang: job.lang,
        };
        let next = Envelope {
            id: env.id,
            trace_id: env.trace_id.clone(),
            payload: image,
        };
        d.job(IMAGE_SUBJECT, &next);
        let committed = d.commit(pool.begin().await?).await?;
        self.deps.outbox.publish(committed).await
    }
}
