//! Sending a dead letter back to its stage from the Health section. The admin request that
//! asks for it marks the row first (`retry_job`, one statement, idempotent per request); once
//! the panel's answer is committed, every dead letter marked by that request is published to
//! its original subject under a message id made of both ids — so a redelivered request
//! publishes again and JetStream drops the duplicate. The row stays, with when it was retried;
//! a message that fails again is dead-lettered anew.

use async_nats::jetstream;
use shared::HandlerError;
use sqlx::PgPool;
use uuid::Uuid;

/// Marks dead letter `id` as retried by request `job`; the stage it goes back to, or `None`
/// when there is no such dead letter.
pub async fn mark(pool: &PgPool, id: i64, job: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE dead_letters SET retried_at = now(), retry_job = $2 WHERE id = $1 RETURNING stage",
    )
    .bind(id)
    .bind(job)
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
