//! Job status in the JetStream KV bucket: PENDING → PROCESSING → COMPLETED | FAILED, each
//! entry expiring with the bucket's `max_age` (`JOB_TTL_SECS`).

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::HandlerError;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Published, not yet taken.
    Pending,
    /// A stage is working on it.
    Processing,
    /// Done; the user has the result.
    Completed,
    /// Given up; the user was told.
    Failed,
}

/// One entry of the bucket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobStatus {
    /// Current state.
    pub state: JobState,
    /// Stage that set it (`fn-reply`, …).
    pub stage: String,
    /// When it was set.
    pub updated_at: DateTime<Utc>,
    /// Why it failed, for FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads and writes job status.
#[derive(Clone)]
pub struct JobBoard {
    store: kv::Store,
}

impl JobBoard {
    /// Wraps the job status bucket.
    pub fn new(store: kv::Store) -> Self {
        Self { store }
    }

    /// Records `state` for job `id`.
    pub async fn set(
        &self,
        id: Uuid,
        state: JobState,
        stage: &str,
        error: Option<String>,
    ) -> Result<(), HandlerError> {
        let status = JobStatus {
            state,
            stage: stage.to_owned(),
            updated_at: Utc::now(),
            error,
        };
        let bytes = serde_json::to_vec(&status).expect("job status serializes");
        self.store
            .put(id.simple().to_string(), bytes.into())
            .await
            .map_err(|e| HandlerError::transient(format!("job status: {e}")))?;
        Ok(())
    }
}

/// Publishes a job (after marking it PENDING) and waits until JetStream stored it. The
/// `Nats-Msg-Id` is the job id, so a publish repeated by a redelivered handler is dropped by
/// the stream's duplicate window.
pub async fn enqueue<T: Serialize>(
    js: &async_nats::jetstream::Context,
    board: &JobBoard,
    subject: &str,
    stage: &str,
    job: &crate::envelope::Envelope<T>,
) -> Result<(), HandlerError> {
    let payload = serde_json::to_vec(job).expect("jobs serialize");
    publish(js, board, subject, stage, job.id, payload).await
}

/// Publishes an already serialized job; see [`enqueue`].
pub async fn publish(
    js: &async_nats::jetstream::Context,
    board: &JobBoard,
    subject: &str,
    stage: &str,
    job_id: Uuid,
    payload: Vec<u8>,
) -> Result<(), HandlerError> {
    use async_nats::jetstream::message::PublishMessage;
    if let Err(e) = board.set(job_id, JobState::Pending, stage, None).await {
        tracing::warn!(error = %e, "job status not updated");
    }
    let msg = PublishMessage::build()
        .payload(payload.into())
        .message_id(format!("{subject}:{job_id}"));
    js.send_publish(subject.to_owned(), msg)
        .await
        .map_err(|e| HandlerError::transient(format!("publish {subject}: {e}")))?
        .await
        .map_err(|e| HandlerError::transient(format!("publish {subject} not stored: {e}")))?;
    Ok(())
}
