//! Sending a dead letter back to its stage from the Health section. The admin request that
//! asks for it marks the row first (`retry_job`, one statement, idempotent per request); once
//! the panel's answer is committed, every dead letter marked by that request is published to
//! its original subject under a message id made of both ids — so a redelivered request
//! publishes again and JetStream drops the duplicate. The row stays, with when it was retried;
//! a message that fails again is dead-lettered anew.

use async_nats::jetstream;
use runtime::HandlerError;
use runtime::nats::topology::SEND_STAGE;
use sqlx::PgPool;
use uuid::Uuid;

/// What marking a dead letter for retry found.
#[derive(Debug, sqlx::FromRow)]
pub struct Marked {
    /// The stage it goes back to.
    pub stage: String,
    /// For a send job: its messages queued again (they had failed for good).
    pub requeued: i64,
    /// For a send job: its messages that cannot be sent again (their photo is not kept).
    pub lost: i64,
}

/// Marks dead letter `id` as retried by request `job`, in one statement; for a send job
/// (fn-send's), its failed messages are made pending again — but a photo or file whose bytes
/// were dropped when it failed cannot be. `None` when there is no such dead letter.
pub async fn mark(pool: &PgPool, id: i64, job: Uuid) -> sqlx::Result<Option<Marked>> {
    sqlx::query_as(
        "WITH dl AS (
             UPDATE dead_letters SET retried_at = now(), retry_job = $2 WHERE id = $1
             RETURNING stage, try_jsonb(payload) -> 'payload' -> 'effects' AS effects),
         named AS (
             SELECT e.id, (e.blob IS NULL AND e.method IN ('sendPhoto', 'sendDocument')
                           AND jsonb_typeof(e.params -> 'photo') IS DISTINCT FROM 'string') AS lost
             FROM dl, effects e
             WHERE dl.stage = $3 AND jsonb_typeof(dl.effects) = 'array' AND e.state = 'failed'
               AND e.id IN (SELECT x::uuid FROM jsonb_array_elements_text(dl.effects) x
                            WHERE x ~ '^[0-9a-fA-F-]{36}$')),
         again AS (
             UPDATE effects e SET state = 'pending', attempts = 0, failing_since = NULL,
                 error = NULL, done_at = NULL, lease_until = NULL, lease_token = NULL
             FROM named n WHERE e.id = n.id AND NOT n.lost RETURNING 1)
         SELECT dl.stage, (SELECT count(*) FROM again) AS requeued,
                (SELECT count(*) FROM named WHERE lost) AS lost
         FROM dl",
    )
    .bind(id)
    .bind(job)
    .bind(SEND_STAGE.name)
    .fetch_optional(pool)
    .await
}

/// Publishes every dead letter request `job` marked (after its decision is committed).
pub async fn publish(
    pool: &PgPool,
    js: &jetstream::Context,
    job: Uuid,
) -> Result<(), HandlerError> {
    let marked: Vec<(i64, String, Vec<u8>)> =
        sqlx::query_as("SELECT id, subject, payload FROM dead_letters WHERE retry_job = $1")
            .bind(job)
            .fetch_all(pool)
            .await?;
    for (id, subject, payload) in marked {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            "Nats-Msg-Id",
            format!("retry-{id}-{}", job.simple()).as_str(),
        );
        js.publish_with_headers(subject, headers, payload.into())
            .await
            .map_err(|e| HandlerError::transient(format!("retry publish: {e}")))?
            .await
            .map_err(|e| HandlerError::transient(format!("retry not stored: {e}")))?;
        tracing::info!(dead_letter = id, "dead letter sent back to its stage");
    }
    Ok(())
}
