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

impl JobState {
    /// Position in the life of a job; a status never moves to a lower rank, and the final
    /// ones (COMPLETED, FAILED) never change.
    fn rank(self) -> u8 {
        match self {
            Self::Pending => 0,
            Self::Processing => 1,
            Self::Completed | Self::Failed => 2,
        }
    }
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

    /// Moves job `id` to `state` unless it already is at or past it (compare-and-set, so a
    /// redelivery or a late write never takes a finished job back to PROCESSING or PENDING).
    pub async fn advance(
        &self,
        id: Uuid,
        state: JobState,
        stage: &str,
        error: Option<String>,
    ) -> Result<(), HandlerError> {
        let key = id.simple().to_string();
        let status = JobStatus {
            state,
            stage: stage.to_owned(),
            updated_at: Utc::now(),
            error,
        };
        let bytes: bytes::Bytes = serde_json::to_vec(&status)
            .expect("job status serializes")
            .into();
        let fail = |e: &dyn std::fmt::Display| HandlerError::transient(format!("job status: {e}"));
        for _ in 0..5 {
            let current = self.store.entry(key.clone()).await.map_err(|e| fail(&e))?;
            let written = match current.filter(|e| e.operation == kv::Operation::Put) {
                None => self
                    .store
                    .create(&key, bytes.clone())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Some(entry) => {
                    let old: Option<JobStatus> = serde_json::from_slice(&entry.value).ok();
                    if let Some(old) = old
                        && (old.state.rank() > state.rank() || old.state.rank() == 2)
                    {
                        return Ok(());
                    }
                    self.store
                        .update(&key, bytes.clone(), entry.revision)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            };
            if written.is_ok() {
                return Ok(());
            }
        }
        Err(HandlerError::transient(
            "job status: kept losing the compare-and-set",
        ))
    }

    /// [`JobBoard::advance`] in the background: status is advisory and must never delay work.
    pub fn advance_later(&self, id: Uuid, state: JobState, stage: &str, error: Option<String>) {
        let (board, stage) = (self.clone(), stage.to_owned());
        tokio::spawn(async move {
            if let Err(e) = board.advance(id, state, &stage, error).await {
                tracing::debug!(job = %id, error = %e, "job status not updated");
            }
        });
    }
}
