//! Job status in the JetStream KV bucket: PENDING → PROCESSING → COMPLETED | FAILED, each
//! entry expiring with the bucket's `max_age` (`JOB_TTL_SECS`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// Writes job status. Each write is a plain publish to the bucket's subject, neither awaited
/// nor acknowledged: status is advisory and must cost the pipeline no round trip. It still
/// never goes back, by construction: PENDING is written once, when the job is first published,
/// before the job itself on the same connection; PROCESSING only on a job's first delivery,
/// by the stage that received it, before it publishes what follows on its connection;
/// COMPLETED (by fn-send, once the job's messages are sent) and FAILED (when the runner gives
/// up) are the last writes a job gets. Entries expire with the bucket's `max_age`.
#[derive(Clone)]
pub struct JobBoard {
    client: async_nats::Client,
    subject: String,
}

impl JobBoard {
    /// Writes into KV bucket `bucket` through `client`.
    pub fn new(client: async_nats::Client, bucket: &str) -> Self {
        Self {
            client,
            subject: format!("$KV.{bucket}."),
        }
    }

    /// Records `state` for job `id` (fire and forget).
    pub async fn note(&self, id: Uuid, state: JobState, stage: &str, error: Option<String>) {
        let status = JobStatus {
            state,
            stage: stage.to_owned(),
            updated_at: Utc::now(),
            error,
        };
        let bytes = serde_json::to_vec(&status).expect("job status serializes");
        let subject = format!("{}{}", self.subject, id.simple());
        if let Err(e) = self.client.publish(subject, bytes.into()).await {
            tracing::debug!(job = %id, error = %e, "job status not written");
        }
    }
}
