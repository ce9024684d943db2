//! fn-reply: answers the user's latest message in character, or writes another version of an
//! answer (🔄, `/retry`). Loads the persona and the dialog from Postgres, asks the LLM (typing
//! shown meanwhile) and streams the answer into a message edited through the pacer, with ⏹
//! to stop it; then commits the answer, keyed by job id, together with the messages that carry
//! it, which fn-send delivers. A redelivered job finds its stored answer and only publishes
//! what was not published, so a crash never doubles an answer or an LLM call that finished.
//! A message whose earlier message in the dialog is still unanswered waits its turn without
//! holding a slot (the runner parks it), so answers come in order and each sees the last.
//! Off the critical path, on the same subject, it folds old messages into the rolling summary
//! (`summary`) and extracts facts about the user into long-term memory (`memory`).

pub mod answer;
pub mod context;
mod follow;
pub mod guard;
pub mod llm;
pub mod lore;
pub mod memory;
mod nudge;
pub mod similar;
pub mod speak;
pub mod sse;
pub mod store;
pub mod summary;
mod write;

use std::time::Duration;

use companion::jobs::ReplyJob;
use companion::jobs::sorry;
use companion::locale::Lang;
use companion::locale::{T, t};
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::app::{Deps, FromEnv};
use runtime::config::Env;
use runtime::envelope::Envelope;
use runtime::llm::{Endpoint, Sampling};
use runtime::nats::topology::REPLY_STAGE;
use runtime::runner::Notice;
use runtime::runner::Stage;

use crate::guard::Guard;
use crate::llm::{Llm, LlmSettings};

/// How often a waiting message looks again whether its turn has come.
const ORDER_POLL: Duration = Duration::from_millis(300);

/// fn-reply settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The model and how to reach it.
    pub llm: LlmSettings,
    /// How many past messages the model sees at most.
    pub history_messages: i64,
    /// The prompt's budget in (estimated) tokens.
    pub context_tokens: usize,
    /// How often the streaming answer's message is edited; `None`: answers are sent whole.
    pub stream_every: Option<Duration>,
    /// User messages a memory extraction waits for (`MEMORY_EVERY`; 0: no extraction).
    pub memory_every: i64,
    /// Nudges (`NUDGES_PER_WEEK`; `NUDGE_SILENCE_SECS` is fn-updates').
    pub nudges: companion::nudges::NudgeSettings,
    /// Voice notes (text to speech: `TTS_*`).
    pub voice: runtime::audio::VoiceSettings,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        let endpoint = Endpoint::read(env);
        if endpoint.needs_key() {
            env.problem("VENICE_API_KEY is required when VENICE_API_BASE_URL is Venice's own API");
        }
        let sampling = Sampling::read(env, endpoint.flavor);
        let max_completion_tokens = env.parse("LLM_MAX_TOKENS", 600);
        if max_completion_tokens == 0 {
            env.problem("LLM_MAX_TOKENS must be at least 1");
        }
        let stream_secs: f64 = env.parse("STREAM_EDIT_SECS", 1.5);
        if !(stream_secs == 0.0 || (1.0..=60.0).contains(&stream_secs)) {
            env.problem("STREAM_EDIT_SECS must be 0 (no streaming) or between 1 and 60");
        }
        Self {
            llm: LlmSettings {
                endpoint,
                max_completion_tokens,
                sampling,
                timeout: env.seconds("LLM_TIMEOUT_SECS", 120, 1),
            },
            history_messages: env.parse("HISTORY_MESSAGES", 40),
            context_tokens: env.parse("CONTEXT_TOKENS", 6000),
            stream_every: (stream_secs > 0.0).then(|| Duration::from_secs_f64(stream_secs)),
            memory_every: {
                let n: i64 = env.parse("MEMORY_EVERY", 4);
                if !(0..=100).contains(&n) {
                    env.problem("MEMORY_EVERY must be between 0 (no memory extraction) and 100");
                }
                n
            },
            nudges: companion::nudges::NudgeSettings::read(env),
            voice: runtime::audio::VoiceSettings::read(env),
        }
    }
}

/// The reply stage.
pub struct Reply {
    deps: Deps,
    llm: Llm,
    history: i64,
    budget: usize,
    stream_every: Option<Duration>,
    memory_every: i64,
    nudges: companion::nudges::NudgeSettings,
    tts: Option<speak::Tts>,
}

impl Reply {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        Ok(Self {
            llm: Llm::new(s.llm)?,
            deps,
            history: s.history_messages.max(2),
            budget: s.context_tokens,
            stream_every: s.stream_every,
            memory_every: s.memory_every,
            nudges: s.nudges,
            tts: speak::Tts::new(&s.voice)?,
        })
    }
}

impl Reply {
    /// The refusal that answers the job instead of the model, when the user's latest message,
    /// read with the ones before it, must not reach the model: those messages are withheld
    /// from every later prompt first (a redelivery finds the message withheld and refuses
    /// again).
    async fn screen(
        &self,
        env: &Envelope<ReplyJob>,
        begin: &store::Begin,
        guard: &Guard,
    ) -> Result<Option<String>, HandlerError> {
        let job = &env.payload;
        if begin.withheld == Some(true) {
            return Ok(Some(guard.refusal()));
        }
        let turns = begin.turns.as_ref().map(|t| t.0.as_slice()).unwrap_or(&[]);
        let Some((ids, rule)) = guard.split_request(turns, job.user_message_id) else {
            return Ok(None);
        };
        tracing::warn!(job = %env.id, rule, messages = ids.len(), "request refused at the model's boundary");
        store::withhold(&self.deps.pool, job.dialog_id, &ids).await?;
        Ok(Some(guard.refusal()))
    }
}

impl Stage for Reply {
    type Input = Envelope<ReplyJob>;
    const SPEC: runtime::nats::topology::StageSpec = REPLY_STAGE;
    const CONCURRENCY: usize = 1000;

    async fn handle(&self, env: Envelope<ReplyJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        if job.summarize {
            return self.summarize(&env).await;
        }
        if job.remember {
            return self.remember(&env).await;
        }
        if job.nudge {
            return self.nudge(&env).await;
        }
        if let Some(s) = &job.speak {
            return self.speak(&env, s).await;
        }
        let answer_id = job.regenerate.as_ref().map(|r| r.answer_id);
        let sizes = (self.history, self.memory_every);
        let begin = store::begin(&self.deps.pool, env.id, job, sizes, answer_id).await?;
        if begin.answered {
            tracing::info!(job = %env.id, "answer already stored");
            return self.deps.outbox.republish(&env.id.to_string()).await;
        }
        if begin.earlier {
            return Err(HandlerError::defer(
                "an earlier message is answered first",
                ORDER_POLL,
            ));
        }
        if begin.system_prompt.is_none() {
            // The user deleted the dialog (or the message) meanwhile: nothing to answer.
            tracing::info!(job = %env.id, "the dialog or the message is gone; nothing to answer");
            return Ok(());
        }
        let versions = begin.versions;
        // The user hears every answer too: the voice note follows it (a job in its commit).
        let in_voice = self.tts.is_some() && begin.voice_answers == Some(true);
        let guard = Guard {
            adult: begin.adult.unwrap_or(false),
            minor_cue: begin.minor_cue.unwrap_or(false),
            persona: begin.persona.clone().unwrap_or_default(),
            lang: job.lang,
        };
        let refusal = self.screen(&env, &begin, &guard).await?;
        let prompt = context::to_messages(begin, job.lang, self.budget, sizes)?;
        let w = (&guard, refusal);
        match &job.regenerate {
            None => self.answer(&env, prompt, w, in_voice).await,
            Some(r) => {
                let messages = prompt.messages;
                self.regenerate(&env, r, versions, messages, w, in_voice)
                    .await
            }
        }
    }

    fn failure_notice(env: Option<&Envelope<ReplyJob>>) -> Option<Notice> {
        let Some(env) = env else {
            return sorry(Lang::En, Vec::new());
        };
        if env.payload.speak.is_some() {
            return sorry(env.payload.lang, Vec::new());
        }
        let u = env.payload.user_message_id;
        let retry = match env.payload.regenerate {
            None => Button::Retry(u).encode(),
            Some(_) => Button::Regenerate(u).encode(),
        };
        let label = t(env.payload.lang, T::TryAgainButton);
        sorry(env.payload.lang, vec![vec![(label.to_owned(), retry)]])
    }

    async fn abandoned(&self, env: Envelope<ReplyJob>) {
        let p = &env.payload;
        if p.regenerate.is_some() || p.background() || p.speak.is_some() {
            return;
        }
        if let Err(e) = store::mark_unanswered(&self.deps.pool, env.payload.user_message_id).await {
            tracing::warn!(error = %e, "could not mark the unanswered message");
        }
    }
}
