//! fn-prompt: turns "📸 Photo" into an image job. Reads the moment (the persona's look, the
//! dialog's latest turns and previous scene, the lorebook entries they activate), scans
//! everything that shapes the picture for minors (the user's wish, the dialog text, the
//! model's scene, the final prompt), asks the LLM for the scene as JSON (keywords when it
//! fails), reads the nudity level from the dialog and caps it (explicit only in an adult
//! dialog of a confirmed adult, never above the persona's ceiling), and publishes an image job
//! under the same job id with the dialog's fixed seed. What it decides (the job and the scene,
//! or a refusal that gives the photo slot back) is committed first and published after; a
//! redelivered job only re-publishes.

pub mod compose;
pub mod llm;
pub mod lore;
pub mod scene;
pub mod store;

use companion::content::nudity;
use companion::content::safety;
use companion::jobs::sorry;
use companion::jobs::{ImageJob, PromptJob};
use companion::locale::Lang;
use companion::locale::{T, t};
use runtime::HandlerError;
use runtime::app::{Deps, FromEnv};
use runtime::config::Env;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::llm::Endpoint;
use runtime::nats::jobs::JobState;
use runtime::nats::topology::{IMAGE_SUBJECT, PROMPT_STAGE};
use runtime::runner::Notice;
use runtime::runner::Stage;

use crate::llm::{SceneLlm, SceneLlmSettings};
use crate::scene::Scene;
use crate::store::Moment;

/// fn-prompt settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Picture size.
    pub width: u32,
    /// Picture size.
    pub height: u32,
    /// The scene model.
    pub llm: SceneLlmSettings,
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
        let endpoint = Endpoint::read(env);
        let on = env.parse("SCENE_LLM", true);
        Self {
            width,
            height,
            llm: SceneLlmSettings {
                // Without a key Venice's own API cannot answer: scenes come from keywords.
                endpoint: (on && !endpoint.needs_key()).then_some(endpoint),
                timeout: env.seconds("SCENE_TIMEOUT_SECS", 20, 1),
            },
        }
    }
}

/// The prompt stage.
pub struct Prompt {
    deps: Deps,
    width: u32,
    height: u32,
    llm: SceneLlm,
}

impl Prompt {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        Ok(Self {
            deps,
            width: s.width,
            height: s.height,
            llm: SceneLlm::new(s.llm)?,
        })
    }

    /// Says no to the photo: the notice, the slot given back, the job failed.
    async fn refuse(&self, env: &Envelope<PromptJob>, why: &str) -> Result<(), HandlerError> {
        let job = &env.payload;
        tracing::warn!(job = %env.id, why, "photo refused by the minor-safety scan");
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        d.notice(job.chat_id, t(job.lang, T::PhotoBlocked), &[]);
        let mut tx = self.deps.pool.begin().await?;
        companion::photos::release(&mut *tx, env.id).await?;
        let committed = d.commit(tx).await?;
        self.deps.outbox.publish(committed).await?;
        let jobs = &self.deps.jobs;
        jobs.note(
            env.id,
            JobState::Failed,
            PROMPT_STAGE.name,
            Some("blocked".into()),
        )
        .await;
        Ok(())
    }

    /// The scene: the model's, or the keyword reading when it has none.
    async fn scene(&self, env: &Envelope<PromptJob>, m: &Moment, texts: &[&str]) -> Scene {
        let job = &env.payload;
        let asked = self.llm.scene(
            &m.look,
            m.previous.as_ref(),
            &m.recent,
            job.wish.as_deref(),
            job.lang,
        );
        match asked.await {
            Ok(scene) => scene,
            Err(no) => {
                tracing::info!(job = %env.id, why = %no.why, "scene from keywords");
                // The model's own words first, when it answered in words.
                let mut read: Vec<&str> = no.words.iter().map(String::as_str).collect();
                read.extend(texts);
                Scene::fallback(m.previous.as_ref(), &read)
            }
        }
    }
}

impl Stage for Prompt {
    type Input = Envelope<PromptJob>;
    const SPEC: runtime::nats::topology::StageSpec = PROMPT_STAGE;
    const CONCURRENCY: usize = 64;

    fn failure_notice(env: Option<&Envelope<PromptJob>>) -> Option<Notice> {
        sorry(env.map_or(Lang::En, |e| e.payload.lang), Vec::new())
    }

    async fn handle(&self, env: Envelope<PromptJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let pool = &self.deps.pool;
        if runtime::effects::outbox::decided(pool, env.id).await? {
            return self.deps.outbox.republish(&env.id.to_string()).await;
        }
        let Some(mut m) = store::moment(pool, job).await? else {
            tracing::info!(job = %env.id, "the dialog is gone; no photo");
            companion::photos::release(pool, env.id).await?;
            return Ok(());
        };
        let seed = env.id.as_u64_pair().0;
        m.look.lore = lore::activated(m.lorebook.as_ref(), job.wish.as_deref(), &m.recent, seed);
        let mut texts: Vec<&str> = job.wish.iter().map(String::as_str).collect();
        texts.extend(m.recent.iter().map(|(_, t)| t.as_str()));
        if m.minor_cue {
            return self.refuse(&env, "minor cue in the dialog").await;
        }
        // Everything that shapes the picture is read with the picture rules: a child in it
        // blocks, owned or remembered.
        if let Some(hit) = texts.iter().find_map(|t| safety::check_picture(t)) {
            return self.refuse(&env, hit.rule.as_str()).await;
        }
        let mut scene = self.scene(&env, &m, &texts).await;
        let wanted = nudity::cue_of_dialog(texts.iter().copied()).unwrap_or(scene.level);
        scene.level = compose::allowed(wanted, m.adult, m.max_level);
        let (prompt, negative_prompt) = compose::prompts(&m.look, &scene, scene.level);
        if let Some(hit) = safety::check_picture(&prompt) {
            return self.refuse(&env, hit.rule.as_str()).await;
        }
        let caption = if scene.caption.is_empty() {
            t(job.lang, T::PhotoCaption).to_owned()
        } else {
            scene.caption.clone()
        };
        let image = ImageJob {
            chat_id: job.chat_id,
            user_id: job.user_id,
            dialog_id: job.dialog_id,
            prompt,
            negative_prompt,
            seed: m.seed,
            width: self.width,
            height: self.height,
            lang: job.lang,
            reply_to: job.reply_to,
            caption,
            history: compose::history_line(&m.look, &scene, scene.level),
        };
        let next = Envelope {
            id: env.id,
            trace_id: env.trace_id.clone(),
            payload: image,
        };
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        d.job(IMAGE_SUBJECT, &next);
        let mut tx = pool.begin().await?;
        store::save_scene(&mut tx, job.dialog_id, &scene).await?;
        let committed = d.commit(tx).await?;
        self.deps.outbox.publish(committed).await
    }

    async fn abandoned(&self, env: Envelope<PromptJob>) {
        if let Err(e) = companion::photos::release(&self.deps.pool, env.id).await {
            tracing::warn!(job = %env.id, error = %e, "photo slot not given back");
        }
    }
}
