//! fn-reply: answers the user's latest message in character. Loads the persona and the
//! dialog from Postgres, asks the LLM (showing "typing…" meanwhile), stores the answer keyed
//! by job id and sends it. A redelivered job finds its stored answer and only sends what was
//! not sent yet, so a crash never doubles an answer or an LLM call that already finished.

pub mod context;
pub mod llm;

use std::time::Duration;

use shared::HandlerError;
use shared::app::{Deps, FromEnv};
use shared::config::Env;
use shared::envelope::{Envelope, ReplyJob};
use shared::runner::Stage;
use shared::telegram::{ButtonRow, photo_button};
use shared::topology::REPLY_STAGE;

use crate::llm::{Llm, LlmSettings};

/// Longest wait for an earlier message of the same dialog to be answered.
const ORDER_WAIT: Duration = Duration::from_secs(150);

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

    /// Two quick messages must be answered in order, each answer seeing the previous one: wait
    /// while an earlier message of the dialog (from the last few minutes) has no answer yet.
    /// The runner's progress acks keep this job alive meanwhile; the wait is capped so a
    /// message whose job failed for good cannot hold the dialog.
    async fn wait_for_earlier(&self, job: &ReplyJob) -> Result<(), HandlerError> {
        let deadline = tokio::time::Instant::now() + ORDER_WAIT;
        loop {
            let pending: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM chat_messages u
                 WHERE u.dialog_id = $1 AND u.role = 'user' AND u.id < $2
                   AND u.created_at > now() - interval '3 minutes' AND u.reply_failed_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM chat_messages a WHERE a.reply_to = u.id))",
            )
            .bind(job.dialog_id)
            .bind(job.user_message_id)
            .fetch_one(&self.deps.pool)
            .await?;
            if !pending || tokio::time::Instant::now() >= deadline {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn generate(&self, job: &ReplyJob) -> Result<String, HandlerError> {
        let messages = context::load(
            &self.deps.pool,
            job.dialog_id,
            job.user_message_id,
            self.history,
        )
        .await?
        .ok_or_else(|| HandlerError::permanent("the dialog or the message to answer is gone"))?;
        // Telegram shows "typing…" for ~5 s: refresh it while the model works, off the
        // critical path (the indicator must never delay the answer).
        let (tg, chat) = (self.deps.telegram.clone(), job.chat_id);
        let typing = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(4));
            loop {
                tick.tick().await;
                tg.typing(chat).await;
            }
        });
        let answer = self.llm.complete(&messages).await;
        typing.abort();
        answer
    }

    async fn send(&self, job: &ReplyJob, row_id: i64, text: &str) -> Result<(), HandlerError> {
        let parts = context::split(text, context::TELEGRAM_TEXT_LIMIT);
        let mut last = 0;
        for (i, part) in parts.iter().enumerate() {
            let buttons: Vec<ButtonRow> = if i + 1 == parts.len() {
                photo_button(job.dialog_id)
            } else {
                Vec::new()
            };
            last = self
                .deps
                .telegram
                .send_text(job.chat_id, part, buttons)
                .await?;
        }
        sqlx::query("UPDATE chat_messages SET telegram_message_id = $2 WHERE id = $1")
            .bind(row_id)
            .bind(last)
            .execute(&self.deps.pool)
            .await?;
        Ok(())
    }
}

impl Stage for Reply {
    type Input = Envelope<ReplyJob>;
    const SPEC: shared::topology::StageSpec = REPLY_STAGE;
    const FINISHES_JOB: bool = true;

    async fn handle(&self, env: Envelope<ReplyJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let stored: Option<(i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, content, telegram_message_id FROM chat_messages WHERE job_id = $1",
        )
        .bind(env.id)
        .fetch_optional(&self.deps.pool)
        .await?;
        let (row_id, text) = match stored {
            Some((_, _, Some(_))) => {
                tracing::info!(job = %env.id, "answer already sent");
                return Ok(());
            }
            Some((id, text, None)) => (id, text),
            None => {
                self.wait_for_earlier(job).await?;
                let text = self.generate(job).await?;
                // A copy that raced us may have stored its answer first: send that one.
                sqlx::query_as(
                    "INSERT INTO chat_messages (dialog_id, role, content, job_id, reply_to)
                     VALUES ($1, 'assistant', $2, $3, $4)
                     ON CONFLICT (job_id) DO UPDATE SET job_id = EXCLUDED.job_id RETURNING id, content",
                )
                .bind(job.dialog_id)
                .bind(&text)
                .bind(env.id)
                .bind(job.user_message_id)
                .fetch_one(&self.deps.pool)
                .await?
            }
        };
        self.send(job, row_id, &text).await
    }

    async fn abandoned(&self, env: Envelope<ReplyJob>) {
        let marked = sqlx::query("UPDATE chat_messages SET reply_failed_at = now() WHERE id = $1")
            .bind(env.payload.user_message_id)
            .execute(&self.deps.pool)
            .await;
        if let Err(e) = marked {
            tracing::warn!(error = %e, "could not mark the unanswered message");
        }
    }
}
