//! After the commit: [`Committed`] jobs (only a commit makes one) are published by the
//! [`Outbox`], which also re-publishes what a crash left unpublished (on redelivery, and the
//! sweeper's periodic pass) and sends chat actions that are never stored.

use std::time::Duration;

use sqlx::PgPool;

use crate::effects::OutboxJob;
use crate::envelope::{Envelope, SendJob};
use crate::error::HandlerError;
use crate::nats::jobs::{JobBoard, JobState};
use crate::nats::topology::{SEND_SUBJECT, is_schedule};

/// Jobs whose rows are committed: the only thing [`Outbox::publish`] accepts.
#[must_use = "committed jobs must be published"]
pub struct Committed {
    pub(crate) jobs: Vec<OutboxJob>,
    pub(crate) source: String,
}

impl Committed {
    /// Jobs a caller's own single, autocommitted statement wrote to the outbox (for a hot path
    /// that builds a job's payload in SQL); only rows already committed may be passed.
    pub fn written(source: impl Into<String>, jobs: Vec<OutboxJob>) -> Self {
        Self {
            jobs,
            source: source.into(),
        }
    }
}

/// Publishes committed jobs (their consumers mark them published), re-publishes what a crash
/// left behind, and sends chat actions.
#[derive(Clone)]
pub struct Outbox {
    js: async_nats::jetstream::Context,
    pool: PgPool,
    board: JobBoard,
}

impl Outbox {
    /// Wraps the connections.
    pub fn new(js: async_nats::jetstream::Context, pool: PgPool, board: JobBoard) -> Self {
        Self { js, pool, board }
    }

    /// Publishes what a commit produced.
    pub async fn publish(&self, c: Committed) -> Result<(), HandlerError> {
        // A new job starts PENDING; a job handed on under its own id (prompt → image) and
        // send jobs (status belongs to the job they complete) do not.
        for job in &c.jobs {
            if job.subject != SEND_SUBJECT
                && !is_schedule(&job.subject)
                && job.job_id.to_string() != c.source
            {
                self.board
                    .note(job.job_id, JobState::Pending, "outbox", None)
                    .await;
            }
        }
        self.send(c.jobs).await
    }

    /// Publishes jobs no commit stored (a schedule moved by a job that writes nothing): the
    /// caller fails, and is delivered again, when the publish does.
    pub async fn publish_unstored(&self, jobs: Vec<OutboxJob>) -> Result<(), HandlerError> {
        self.send(jobs).await
    }

    /// Publishes whatever `source` left unconsumed (its handler crashed after the commit).
    pub async fn republish(&self, source: &str) -> Result<(), HandlerError> {
        let jobs: Vec<OutboxJob> = sqlx::query_as(
            "SELECT job_id, subject, payload FROM outbox
             WHERE source = $1 AND published_at IS NULL ORDER BY created_at",
        )
        .bind(source)
        .fetch_all(&self.pool)
        .await?;
        self.send(jobs).await
    }

    /// Re-publishes up to `limit` rows committed more than `grace` ago and still unpublished;
    /// rows are leased for a minute first, so several sweepers never take the same row. Rows
    /// never swept go first, then the longest unswept: rows whose consumer is stopped (they
    /// come back every minute) never crowd out the rows a crash just left. A schedule with a
    /// newer row on its subject is not published again (it would replace the newer one, a
    /// crash having left it unmarked after its publish): it is marked published instead.
    pub async fn sweep(&self, grace: Duration, limit: i64) -> Result<usize, HandlerError> {
        let jobs: Vec<OutboxJob> = sqlx::query_as(
            "WITH picked AS (
                 SELECT job_id, subject, created_at FROM outbox
                 WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1)
                   AND (sweep_until IS NULL OR sweep_until < now())
                 ORDER BY sweep_until NULLS FIRST, created_at LIMIT $2 FOR UPDATE SKIP LOCKED),
             judged AS (
                 SELECT p.job_id, CASE WHEN p.subject LIKE $3 THEN EXISTS (
                            SELECT 1 FROM outbox n
                            WHERE n.subject = p.subject AND n.created_at > p.created_at)
                        ELSE false END AS superseded
                 FROM picked p),
             superseded AS (
                 UPDATE outbox SET published_at = now()
                 WHERE job_id IN (SELECT job_id FROM judged WHERE superseded))
             UPDATE outbox SET sweep_until = now() + interval '60 seconds'
             WHERE job_id IN (SELECT job_id FROM judged WHERE NOT superseded)
             RETURNING job_id, subject, payload",
        )
        .bind(grace.as_secs_f64())
        .bind(limit)
        .bind(crate::nats::topology::schedule_subject("%"))
        .fetch_all(&self.pool)
        .await?;
        let n = jobs.len();
        if n > 0 {
            tracing::warn!(jobs = n, "sweeper re-publishing jobs a crash left behind");
        }
        self.send(jobs).await?;
        Ok(n)
    }

    /// A chat action ("typing…"): best effort, never stored.
    pub async fn chat_action(&self, chat_id: i64, action: &str, trace_id: &str) {
        let job = SendJob {
            chat_id,
            effects: Vec::new(),
            completes: None,
            action: Some(action.to_owned()),
            action_at_ms: Some(chrono::Utc::now().timestamp_millis()),
        };
        let env = Envelope::new(trace_id, job);
        let payload = serde_json::to_vec(&env).expect("jobs serialize");
        let msg = crate::envelope::stamped(payload.into());
        if let Err(e) = self.js.send_publish(SEND_SUBJECT, msg).await {
            tracing::debug!(error = %e, "chat action not published");
        }
    }

    /// Shows chat action `action` ("typing", "upload_photo") every `every`, the first time
    /// after `after`, until the returned guard is dropped, however the work it covers ends.
    pub fn keep_action(
        &self,
        chat_id: i64,
        action: &'static str,
        trace_id: &str,
        (after, every): (std::time::Duration, std::time::Duration),
    ) -> ActionGuard {
        let (outbox, trace) = (self.clone(), trace_id.to_owned());
        ActionGuard(tokio::spawn(async move {
            let start = tokio::time::Instant::now() + after;
            let mut tick = tokio::time::interval_at(start, every);
            loop {
                tick.tick().await;
                outbox.chat_action(chat_id, action, &trace).await;
            }
        }))
    }

    async fn send(&self, jobs: Vec<OutboxJob>) -> Result<(), HandlerError> {
        if jobs.is_empty() {
            return Ok(());
        }
        crate::telemetry::hops::part(
            crate::telemetry::hops::Part::Publish,
            self.publish_all(jobs),
        )
        .await
    }

    /// Publishes `jobs` and waits for the stream's acks.
    async fn publish_all(&self, jobs: Vec<OutboxJob>) -> Result<(), HandlerError> {
        // Send every publish first, then wait for the acks: one round trip for all of them.
        let mut acks = Vec::with_capacity(jobs.len());
        let mut schedules = Vec::new();
        for job in &jobs {
            let msg = if is_schedule(&job.subject) {
                schedules.push(job.job_id);
                match super::schedule::message(&job.payload) {
                    Some(msg) => msg,
                    None => {
                        tracing::error!(job = %job.job_id, "not a schedule's payload; dropped");
                        continue;
                    }
                }
            } else {
                crate::envelope::stamped(job.payload.clone().into())
            };
            let mut msg = msg.message_id(format!("{}:{}", job.subject, job.job_id));
            if let Some(parent) = crate::telemetry::trace::current_parent() {
                msg = msg.header(crate::telemetry::trace::TRACEPARENT, parent.as_str());
            }
            let ack = self
                .js
                .send_publish(job.subject.clone(), msg)
                .await
                .map_err(|e| HandlerError::transient(format!("publish {}: {e}", job.subject)))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|e| HandlerError::transient(format!("publish not stored: {e}")))?;
        }
        if !schedules.is_empty() {
            // No stage consumes a schedule's subject to mark it: done here, once it is stored.
            sqlx::query(
                "UPDATE outbox SET published_at = now()
                 WHERE job_id = ANY($1) AND published_at IS NULL",
            )
            .bind(&schedules)
            .execute(&self.pool)
            .await?;
        }
        // Not marked here: the consuming stage marks a job published in its first statement
        // (a `WITH received AS (UPDATE outbox SET published_at = now() WHERE job_id = …)`
        // clause), which costs no round trip of its own. Until then the sweeper may
        // publish it again after the grace period, and the stream's duplicate window (or the
        // consumer's idempotency) drops the copy.
        Ok(())
    }
}

/// A chat action kept on until this is dropped (see [`Outbox::keep_action`]).
pub struct ActionGuard(tokio::task::JoinHandle<()>);

impl Drop for ActionGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether job `id`'s decision is already committed (its outbox rows carry `source = id`);
/// marks the job itself received (published) in the same statement. A redelivered job whose
/// decision was committed only re-publishes it.
pub async fn decided(pool: &sqlx::PgPool, id: uuid::Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL)
         SELECT EXISTS (SELECT 1 FROM outbox WHERE source = $1::text)",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// Marks job `id` received (published), for a stage whose first statement does not already
/// (a rolling summary): the sweeper then leaves its outbox row alone.
pub async fn received(pool: &sqlx::PgPool, id: uuid::Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}
