//! fn-updates: the conversation front. Each Telegram update is handled in one Postgres
//! transaction that first claims its `update_id` (a redelivery, even a day later, has no
//! second effect), serialises the chat's updates with an advisory lock, applies the action,
//! writes any job to the outbox, answers the user, and commits; jobs are published after
//! the commit and marked published, so a crash in between is repaired by the redelivery.

pub mod actions;
pub mod route;
pub mod store;

use std::path::PathBuf;

use shared::app::{Deps, FromEnv};
use shared::config::Env;
use shared::runner::Stage;
use shared::topology::UPDATES_STAGE;
use shared::{HandlerError, jobs, personas};

use crate::route::{TgUpdate, route};

/// fn-updates settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Folder of persona cards, synced into the database at start.
    pub personas_dir: PathBuf,
    /// Longest accepted user message, in characters.
    pub max_message_chars: usize,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        Self {
            personas_dir: PathBuf::from(env.string("PERSONAS_DIR", "personas")),
            max_message_chars: env.parse("MAX_MESSAGE_CHARS", 4000),
        }
    }
}

/// The updates stage.
pub struct Updates {
    deps: Deps,
    max_message_chars: usize,
}

impl Updates {
    /// Loads and syncs the personas, then builds the stage.
    pub async fn new(settings: Settings, deps: Deps) -> Result<Self, String> {
        let cards = personas::load_dir(&settings.personas_dir).map_err(|e| e.to_string())?;
        personas::sync(&deps.pool, &cards)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(personas = cards.len(), dir = %settings.personas_dir.display(), "personas loaded");
        Ok(Self {
            deps,
            max_message_chars: settings.max_message_chars,
        })
    }

    /// Publishes jobs (already in the outbox) and marks them published.
    async fn publish(&self, jobs: Vec<store::OutboxJob>) -> Result<(), HandlerError> {
        for job in jobs {
            let stage = UPDATES_STAGE.name;
            jobs::publish(
                &self.deps.js,
                &self.deps.jobs,
                &job.subject,
                stage,
                job.job_id,
                job.payload,
            )
            .await?;
            store::published(&self.deps.pool, job.job_id).await?;
        }
        Ok(())
    }
}

impl Stage for Updates {
    type Input = TgUpdate;
    const SPEC: shared::topology::StageSpec = UPDATES_STAGE;
    const FINISHES_JOB: bool = false;

    async fn handle(&self, input: TgUpdate) -> Result<(), HandlerError> {
        let update_id = i64::from(input.0.id.0);
        let Some((sender, action)) = route(&input.0) else {
            tracing::debug!(update_id, "update ignored");
            return Ok(());
        };
        let mut tx = self.deps.pool.begin().await?;
        if !store::claim_update(&mut tx, update_id).await? {
            tracing::info!(
                update_id,
                "update seen before; only its unpublished jobs are sent"
            );
            drop(tx);
            return self
                .publish(store::unpublished(&self.deps.pool, update_id).await?)
                .await;
        }
        store::lock_chat(&mut tx, sender.chat_id).await?;
        let confirmed = store::upsert_user(&mut tx, &sender).await?;
        let ctx = actions::Ctx {
            tg: &self.deps.telegram,
            update_id,
            sender: &sender,
            confirmed,
            max_chars: self.max_message_chars,
        };
        let after = actions::apply(&mut tx, &ctx, action).await?;
        tx.commit().await?;
        self.publish(after.jobs).await?;
        if after.typing {
            // Best effort and off the ack path: fn-reply refreshes it while the model works.
            let (tg, chat) = (self.deps.telegram.clone(), sender.chat_id);
            tokio::spawn(async move { tg.typing(chat).await });
        }
        Ok(())
    }
}
