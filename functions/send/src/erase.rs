//! The last message of a user's erasure (`/delete_my_data`): it goes after everything decided
//! for the chat before it; once it is done with (sent, or failed for good), the erased jobs'
//! status is removed from the KV bucket, the user's pending nudge schedule from the jobs
//! stream (it names their chat and dialogs), and then the rows sending it left
//! (`erase_traces`).

use runtime::HandlerError;
use runtime::effects::ERASURE;
use runtime::nats::topology::{JOBS_BUCKET, JOBS_STREAM, schedule_subject};
use uuid::Uuid;

use crate::{Send, store};

/// The erasure whose final message effect `e` is, if it is one.
pub fn of(e: &store::Effect) -> Option<Uuid> {
    e.params
        .get(ERASURE)
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

impl Send {
    /// Called when effect `id` (to `chat_id`) is done with: for an erasure's final message,
    /// removes the erased jobs' status from the KV bucket and the user's nudge schedule from
    /// the jobs stream (a private chat's id is its user's), then the chat's last rows, and
    /// marks the erasure done. Called again for a sent message whose erasure is not done (a
    /// step failed and the job came back), so every step is repeated until it is.
    pub(crate) async fn finished(
        &self,
        id: Uuid,
        chat_id: i64,
        erasure: Option<Uuid>,
    ) -> Result<(), HandlerError> {
        let Some(erasure) = erasure else {
            return Ok(());
        };
        let pool = &self.deps.pool;
        let jobs = store::erasure_jobs(pool, erasure).await?;
        if !jobs.is_empty() {
            let kv = self
                .deps
                .js
                .get_key_value(JOBS_BUCKET)
                .await
                .map_err(|e| HandlerError::transient(format!("job status bucket: {e}")))?;
            for job in &jobs {
                kv.purge(job.simple().to_string())
                    .await
                    .map_err(|e| HandlerError::transient(format!("job status purge: {e}")))?;
            }
        }
        let schedule = schedule_subject(&companion::nudges::schedule_key(chat_id));
        let stream = self
            .deps
            .js
            .get_stream(JOBS_STREAM)
            .await
            .map_err(|e| HandlerError::transient(format!("jobs stream: {e}")))?;
        stream
            .purge()
            .filter(schedule)
            .await
            .map_err(|e| HandlerError::transient(format!("nudge schedule purge: {e}")))?;
        store::erase_traces(pool, chat_id, erasure, id).await?;
        tracing::info!(%erasure, jobs = jobs.len(), "erasure finished");
        Ok(())
    }
}
