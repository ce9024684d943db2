//! fn-reply: answers the user's latest message in character. Loads the persona and the
//! dialog from Postgres, asks the LLM (showing "typing…" meanwhile), and commits the answer,
//! keyed by job id, together with the messages that carry it (split at Telegram's limit), which
//! fn-send delivers part by part. A redelivered job finds its stored answer and only publishes
//! what was not published, so a crash never doubles an answer or an LLM call that finished.
//! A message whose earlier message in the dialog is still unanswered waits its turn without
//! holding a slot (the runner parks it), so answers come in order and each sees the last.

pub mod context;
pub mod llm;
pub mod store;

use std::time::Duration;

use shared::HandlerError;
use shared::app::{Deps, FromEnv};
use shared::buttons::Button;
use shared::config::Env;
use shared::effects::Decision;
use shared::envelope::{Envelope, ReplyJob};
use shared::runner::Stage;
use shared::telegram::{ButtonRow, photo_button};
use shared::texts;
use shared::topology::REPLY_STAGE;

use uuid::Uuid;

use crate::llm::{ChatMessage, Llm, LlmError, LlmSettings};

/// How often a waiting message looks again whether its turn has come.
const ORDER_POLL: Duration = Duration::from_millis(300);
/// How often "typing…" is shown again while the model works (Telegram shows it ~5 s).
const TYPING_EVERY: Duration = Duration::from_secs(5);

/// Venice's public API.
pub const VENICE_DEFAULT: &str = "https://api.venice.ai/api/v1";

/// fn-reply settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The model and how to reach it.
    pub llm: LlmSettings,
    /// How many past messages the model sees.
    pub history_messages: i64,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        let base_url = env.url("VENICE_API_BASE_URL", VENICE_DEFAULT);
        let api_key = env.optional_secret("VENICE_API_KEY");
        if api_key.is_empty() && base_url == VENICE_DEFAULT {
            env.problem("VENICE_API_KEY is required when VENICE_API_BASE_URL is Venice's own API");
        }
        Self {
            llm: LlmSettings {
                base_url,
                api_key,
                model: env.string("VENICE_MODEL", "venice-uncensored"),
                max_completion_tokens: env.parse("LLM_MAX_TOKENS", 600),
                temperature: env.parse("LLM_TEMPERATURE", 0.8),
                timeout: env.seconds("LLM_TIMEOUT_SECS", 120, 1),
            },
            history_messages: env.parse("HISTORY_MESSAGES", 40),
        }
    }
}

/// The reply stage.
pub struct Reply {
    deps: Deps,
    llm: Llm,
    history: i64,
}

impl Reply {
    /// Builds the stage.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        Ok(Self {
            llm: Llm::new(s.llm)?,
            deps,
            history: s.history_messages.max(2),
        })
    }

    /// Asks the model; a prompt too long for its context is retried with half the history.
    async fn generate(
        &self,
        id: Uuid,
        job: &ReplyJob,
        trace: &str,
        mut messages: Vec<ChatMessage>,
    ) -> Result<String, HandlerError> {
        let (outbox, chat, trace) = (self.deps.outbox.clone(), job.chat_id, trace.to_owned());
        let typing = tokio::spawn(async move {
            let mut tick = tokio::time::interval(TYPING_EVERY);
            loop {
                tick.tick().await;
                outbox.chat_action(chat, "typing", &trace).await;
            }
        });
        let mut history = self.history;
        let answer = loop {
            match self.llm.complete(&messages).await {
                Err(LlmError::ContextOverflow) if history > 2 => {
                    history /= 2;
                    tracing::warn!(
                        history,
                        "prompt too long for the model; trimming the history"
                    );
                    let begin = store::begin(&self.deps.pool, id, job, history).await?;
                    messages = to_messages(begin)?;
                }
                other => break other.map_err(HandlerError::from),
            }
        };
        typing.abort();
        answer
    }
}

/// The model's messages from a job's first statement; an error when the dialog or the
/// message is gone (nothing to answer, ever).
fn to_messages(b: store::Begin) -> Result<Vec<ChatMessage>, HandlerError> {
    match (b.system_prompt, b.user_name, b.turns) {
        (Some(system), Some(user), Some(turns)) => Ok(context::messages(
            &system,
            &b.post_history.unwrap_or_default(),
            &user,
            turns.0,
        )),
        _ => Err(HandlerError::permanent(
            "the dialog or the message to answer is gone",
        )),
    }
}

impl Stage for Reply {
    type Input = Envelope<ReplyJob>;
    const SPEC: shared::topology::StageSpec = REPLY_STAGE;
    const CONCURRENCY: usize = 1000;

    async fn handle(&self, env: Envelope<ReplyJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let source = env.id.to_string();
        let pool = &self.deps.pool;
        let begin = store::begin(pool, env.id, job, self.history).await?;
        if begin.answered {
            tracing::info!(job = %env.id, "answer already stored");
            return self.deps.outbox.republish(&source).await;
        }
        if begin.earlier {
            return Err(HandlerError::defer(
                "an earlier message is answered first",
                ORDER_POLL,
            ));
        }
        let messages = to_messages(begin)?;
        let text = self.generate(env.id, job, &env.trace_id, messages).await?;
        let mut d = Decision::new(source.clone(), env.trace_id.clone());
        let parts = context::split(&text, context::TELEGRAM_TEXT_LIMIT);
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            d.text(
                job.chat_id,
                part,
                &if last {
                    photo_button(job.dialog_id)
                } else {
                    Vec::new()
                },
            );
        }
        d.completes(env.id);
        match store::answer(pool, env.id, job, &text, d).await? {
            Some(committed) => self.deps.outbox.publish(committed).await,
            // A copy that raced us stored its answer first: that one is sent.
            None => self.deps.outbox.republish(&source).await,
        }
    }
    fn failure_buttons(env: &Envelope<ReplyJob>) -> Vec<ButtonRow> {
        let retry = Button::Retry(env.payload.user_message_id).encode();
        vec![vec![(texts::TRY_AGAIN_BUTTON.to_owned(), retry)]]
    }

    async fn abandoned(&self, env: Envelope<ReplyJob>) {
        if let Err(e) = store::mark_unanswered(&self.deps.pool, env.payload.user_message_id).await {
            tracing::warn!(error = %e, "could not mark the unanswered message");
        }
    }
}
