//! The runners shared by every stage. A stage is one [`Stage::handle`] call; [`Core`] wraps
//! it with decoding, job status, dead letters and the polite failure message, and returns an
//! [`Outcome`] that the JetStream runner maps to ack / nak / term and the HTTP runner maps to
//! a status code.

mod consumer;
mod http;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use sqlx::PgPool;

pub use consumer::run_consumer;
pub use http::{DELIVERY_HEADER, http_router, run_http, serve_lambda};

use crate::deadletter::{self, DeadLetter};
use crate::envelope::{JobInfo, guess_chat_id};
use crate::error::{HandlerError, backoff};
use crate::jobs::{JobBoard, JobState};
use crate::telegram::Telegram;
use crate::texts;
use crate::topology::{MAX_DELIVER, StageSpec};

/// One stage of the pipeline.
pub trait Stage: Send + Sync + 'static {
    /// What arrives on the stage's subject.
    type Input: DeserializeOwned + JobInfo + Send + 'static;
    /// Consumer name and subject.
    const SPEC: StageSpec;
    /// Whether a successful run completes the job (false where another stage follows).
    const FINISHES_JOB: bool;
    /// Does the work. Effects must be keyed so a redelivery does not repeat them.
    fn handle(&self, input: Self::Input) -> impl Future<Output = Result<(), HandlerError>> + Send;
    /// Called once when the runner gives up on a decodable input (after it was recorded as a
    /// dead letter), so the stage can mark what will never be done.
    fn abandoned(&self, input: Self::Input) -> impl Future<Output = ()> + Send {
        let _ = input;
        async {}
    }
}

/// What the runner does with the message after the stage ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Effects committed: acknowledge.
    Done,
    /// Try again after the delay.
    Retry(Duration),
    /// Given up, recorded as a dead letter: terminate.
    Dropped,
}

/// A stage with what every run of it needs.
pub struct Core<S: Stage> {
    stage: S,
    pool: PgPool,
    jobs: JobBoard,
    telegram: Telegram,
}

impl<S: Stage> Core<S> {
    /// Wraps a stage.
    pub fn new(stage: S, pool: PgPool, jobs: JobBoard, telegram: Telegram) -> Arc<Self> {
        Arc::new(Self {
            stage,
            pool,
            jobs,
            telegram,
        })
    }

    /// Decodes and handles one message delivered for the `delivered`-th time.
    pub async fn process(&self, subject: &str, payload: &[u8], delivered: i64) -> Outcome {
        let input: S::Input = match serde_json::from_slice(payload) {
            Ok(input) => input,
            Err(e) => {
                let reason = format!("undecodable payload: {e}");
                return self
                    .give_up(
                        subject,
                        payload,
                        &reason,
                        delivered,
                        guess_chat_id(payload),
                        None,
                    )
                    .await;
            }
        };
        let job = input.job_id();
        let chat = input.chat_id();
        let trace = input.trace_id();
        let span =
            tracing::info_span!("handle", stage = S::SPEC.name, trace_id = %trace, delivered);
        // Status is advisory: a KV blip must not stop the work itself.
        self.mark(job, JobState::Processing, None).await;
        match tracing::Instrument::instrument(self.stage.handle(input), span.clone()).await {
            Ok(()) => {
                if S::FINISHES_JOB {
                    self.mark(job, JobState::Completed, None).await;
                }
                Outcome::Done
            }
            Err(HandlerError::Transient {
                reason,
                retry_after,
            }) if delivered < MAX_DELIVER => {
                let delay = retry_after.unwrap_or_else(|| backoff(delivered));
                tracing::warn!(trace_id = %trace, %reason, delay_ms = delay.as_millis() as u64, "will retry");
                Outcome::Retry(delay)
            }
            Err(e) => {
                let reason = e.to_string();
                let outcome = self
                    .give_up(subject, payload, &reason, delivered, chat, job)
                    .await;
                if outcome == Outcome::Dropped
                    && let Ok(input) = serde_json::from_slice(payload)
                {
                    self.stage.abandoned(input).await;
                }
                outcome
            }
        }
    }

    async fn mark(&self, job: Option<uuid::Uuid>, state: JobState, error: Option<String>) {
        if let Some(id) = job
            && let Err(e) = self.jobs.set(id, state, S::SPEC.name, error).await
        {
            tracing::warn!(job = %id, error = %e, "job status not updated");
        }
    }

    async fn give_up(
        &self,
        subject: &str,
        payload: &[u8],
        reason: &str,
        delivered: i64,
        chat: Option<i64>,
        job: Option<uuid::Uuid>,
    ) -> Outcome {
        let stage = S::SPEC.name;
        tracing::error!(stage, subject, reason, delivered, "giving up on message");
        let dl = DeadLetter {
            stage,
            subject,
            payload,
            error: reason,
            delivered,
            chat_id: chat,
        };
        if let Err(e) = deadletter::record(&self.pool, &dl).await {
            // Not recorded yet: keep the message rather than lose it.
            tracing::warn!(error = %e, "dead letter not stored; message kept for retry");
            return Outcome::Retry(backoff(delivered));
        }
        self.mark(job, JobState::Failed, Some(reason.to_owned()))
            .await;
        if let Some(chat) = chat
            && let Err(e) = self
                .telegram
                .send_text(chat, texts::SORRY, Vec::new())
                .await
        {
            tracing::warn!(error = %e, "could not tell the user about the failure");
        }
        Outcome::Dropped
    }
}
