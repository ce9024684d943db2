//! The runners shared by every stage. A stage is one [`Stage::handle`] call; [`Core`] wraps
//! it with decoding, panic catching, job status, dead letters and the polite failure notice,
//! and returns an [`Outcome`] that the JetStream runner carries out as ack / park / nak / term
//! and the HTTP runner as a status code. Which outcome, and how it is carried out, is decided
//! in [`outcome`] (and, before a message is handled, in [`bounds`]) without servers.

mod bounds;
mod consumer;
mod hold;
mod http;
mod order;
mod outcome;
mod replay;
mod sign;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use serde::de::DeserializeOwned;
use sqlx::PgPool;

pub use bounds::{Admission, CRASH_LOOP, NEWER_GIVE_BACKS, admission, refusal};
pub use consumer::{drain, pull_until, run_consumer};
pub use hold::{Held, alive, hold, settle};
pub use http::{DEFER_HEADER, DELIVERY_HEADER, InvokeAuth, http_router, no_delay, run_http, serve};
pub use order::{Order, Place};
pub use outcome::{Outcome, Ran, Reply, Verdict, given_up, verdict};
pub use replay::{Admit, KEEP as REPLAY_KEEP, Replays};
pub use sign::{SIGNATURE_HEADER, SignError, Signed, TOLERANCE_SECS, new_id, sign, verify};

use crate::effects::{Decision, Outbox};
use crate::envelope::{JobInfo, guess_chat_id};
use crate::error::HandlerError;
use crate::nats::jobs::{JobBoard, JobState};
use crate::nats::topology::{MAX_DELIVER, StageSpec};
use crate::pg::deadletter::{self, DeadLetter};
use crate::telegram::ButtonRow;
use crate::telemetry::hops;

/// One stage of the pipeline.
pub trait Stage: Send + Sync + 'static {
    /// What arrives on the stage's subject.
    type Input: DeserializeOwned + JobInfo + Send + 'static;
    /// Consumer name and subject.
    const SPEC: StageSpec;
    /// Messages one copy handles at once unless `CONCURRENCY` says otherwise: small for
    /// database-bound stages, hundreds for stages that wait on slow HTTP.
    const CONCURRENCY: usize;
    /// Reads the stage's input from a message body (a stage may clean what it cannot store).
    fn decode(payload: &[u8]) -> serde_json::Result<Self::Input> {
        serde_json::from_slice(payload)
    }
    /// Messages with the same key are handled one at a time, lowest rank first.
    fn order_key(payload: &[u8]) -> Option<Order> {
        let _ = payload;
        None
    }
    /// Does the work. Effects must be keyed so a redelivery does not repeat them.
    fn handle(&self, input: Self::Input) -> impl Future<Output = Result<(), HandlerError>> + Send;
    /// What the user is told in the message's chat when the runner gives up on it: `input`
    /// is the message, `None` when it could not be decoded. `None` (the default): nobody is
    /// told. The runtime has no words of its own; the stage says what and in which language.
    fn failure_notice(input: Option<&Self::Input>) -> Option<Notice> {
        let _ = input;
        None
    }
    /// Called once when the runner gives up on a decodable input (after it was recorded as a
    /// dead letter), so the stage can mark what will never be done.
    fn abandoned(&self, input: Self::Input) -> impl Future<Output = ()> + Send {
        let _ = input;
        async {}
    }
}

/// The polite word a user gets when the runner gives up on their message, with buttons
/// under it (a "try again").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notice {
    /// The text, in the user's language.
    pub text: String,
    /// Inline buttons under it.
    pub buttons: Vec<ButtonRow>,
}

/// A stage with what every run of it needs.
pub struct Core<S: Stage> {
    stage: S,
    pool: PgPool,
    jobs: JobBoard,
    outbox: Outbox,
}

impl<S: Stage> Core<S> {
    /// Wraps a stage.
    pub fn new(stage: S, pool: PgPool, jobs: JobBoard, outbox: Outbox) -> Arc<Self> {
        Arc::new(Self {
            stage,
            pool,
            jobs,
            outbox,
        })
    }

    /// Decodes and handles one message delivered for the `delivered`-th time; `first` is
    /// false when the same delivery runs again after a deferral.
    pub async fn process(
        &self,
        subject: &str,
        payload: &[u8],
        delivered: i64,
        first: bool,
    ) -> Outcome {
        let input: S::Input = match S::decode(payload) {
            Ok(input) => input,
            Err(e) => {
                let reason = format!("undecodable payload: {e}");
                return Box::pin(self.give_up(subject, payload, &reason, delivered)).await;
            }
        };
        let (job, trace) = (input.job_id(), input.trace_id());
        // Our trace id (`upd-<id>`) and its W3C form, the same in every function.
        let w3c = crate::telemetry::trace::w3c_id(&trace);
        let span = tracing::info_span!("handle", stage = S::SPEC.name, trace = %trace, trace_id = %w3c, delivered);
        crate::telemetry::link(&span, &w3c);
        if first
            && delivered == 1
            && let Some(id) = job
        {
            self.jobs
                .note(id, JobState::Processing, S::SPEC.name, None)
                .await;
        }
        let work = tracing::Instrument::instrument(self.stage.handle(input), span.clone());
        let work = crate::telemetry::trace::scope(w3c, work);
        let stage = S::SPEC.name;
        let in_flight = metrics::gauge!("companion_in_flight", "stage" => stage);
        in_flight.increment(1.0);
        let started = std::time::Instant::now();
        let (work, clock) = hops::measure(AssertUnwindSafe(work).catch_unwind());
        let result = work.await;
        in_flight.decrement(1.0);
        let handled = started.elapsed();
        metrics::histogram!("companion_handle_seconds", "stage" => stage)
            .record(handled.as_secs_f64());
        hops::record_handler(stage, &clock, handled);
        let outcome = self
            .settle(result, subject, payload, delivered, (job, &trace))
            .await;
        let label = outcome.label();
        metrics::counter!("companion_messages_total", "stage" => stage, "outcome" => label)
            .increment(1);
        span.in_scope(|| tracing::debug!(outcome = label, "handled"));
        outcome
    }

    /// What a handler's result means for its message.
    async fn settle(
        &self,
        result: std::thread::Result<Result<(), HandlerError>>,
        subject: &str,
        payload: &[u8],
        delivered: i64,
        (job, trace): Settle<'_>,
    ) -> Outcome {
        let result = match result {
            Ok(r) => r,
            Err(panic) => {
                let what = panic_message(&panic);
                tracing::error!(stage = S::SPEC.name, trace_id = %trace, job = ?job, delivered, panic = %what, "handler panicked");
                Err(HandlerError::transient(format!("handler panicked: {what}")))
            }
        };
        let outcome = match verdict(Ran::of(&result), delivered, MAX_DELIVER) {
            Verdict::Settle(outcome) => outcome,
            Verdict::GiveUp => {
                let reason = result.err().map(|e| e.to_string()).unwrap_or_default();
                // Boxed (as is the other give-up): the rare paths' futures are large, and a
                // future reserves room for its largest await while every message waits.
                let g = self.give_up(subject, payload, &reason, delivered);
                return Box::pin(g).await;
            }
        };
        if let Err(e) = &result {
            let reason = e.reason();
            match outcome {
                Outcome::Defer(delay) => {
                    tracing::debug!(trace_id = %trace, %reason, delay_ms = delay.as_millis() as u64, "deferred");
                }
                Outcome::Retry(delay) => {
                    tracing::warn!(trace_id = %trace, %reason, delay_ms = delay.as_millis() as u64, "will retry");
                }
                Outcome::Done | Outcome::Dropped => {}
            }
        }
        outcome
    }

    /// Gives up on a message: records it as a dead letter, tells its chat what the stage says
    /// ([`Stage::failure_notice`]), marks its job failed, and lets the stage mark what will
    /// never be done ([`Stage::abandoned`]). The payload is read again here, so only this rare
    /// path pays for the notice.
    pub(super) async fn give_up(
        &self,
        subject: &str,
        payload: &[u8],
        reason: &str,
        delivered: i64,
    ) -> Outcome {
        let input = S::decode(payload).ok();
        let (chat, job) = match &input {
            Some(input) => (input.chat_id(), input.job_id()),
            None => (guess_chat_id(payload), None),
        };
        let told = S::failure_notice(input.as_ref());
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
        let source = format!("dead-{}", uuid::Uuid::new_v4());
        let mut notice = Decision::new(source, job.map(|j| j.to_string()).unwrap_or_default());
        if let (Some(chat), Some(n)) = (chat, &told) {
            notice.notice(chat, &n.text, &n.buttons);
        }
        let stored = async {
            let mut tx = self.pool.begin().await?;
            deadletter::record(&mut tx, &dl).await?;
            notice.commit(tx).await
        };
        let committed = match stored.await {
            Ok(c) => c,
            Err(e) => {
                // Not recorded yet: keep the message rather than lose it.
                tracing::warn!(error = %e, "dead letter not stored; message kept for retry");
                return given_up(false, delivered);
            }
        };
        if let Some(id) = job {
            self.jobs
                .note(id, JobState::Failed, stage, Some(reason.to_owned()))
                .await;
        }
        if let Err(e) = self.outbox.publish(committed).await {
            tracing::warn!(error = %e, "failure notice not published yet; the sweeper will");
        }
        if let Some(input) = input {
            self.stage.abandoned(input).await;
        }
        given_up(true, delivered)
    }
}

/// What [`Core::settle`] needs of the message besides its bytes: job and trace id.
type Settle<'a> = (Option<uuid::Uuid>, &'a str);

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".to_owned())
}
