//! The sweeper: a periodic task in every fn-send copy, safe with many copies running (rows are
//! leased with `FOR UPDATE SKIP LOCKED` in one autocommit statement, then published). It
//! re-publishes outbox jobs a crash left between commit and publish, re-queues effects whose
//! send job was lost, and prunes what is no longer needed: update claims older than a week
//! (Telegram reuses update ids after a week without updates), old sent effects and published
//! outbox rows, and dead letters older than `DEAD_LETTER_DAYS` (they hold users' texts).

use std::time::Duration;

use runtime::HandlerError;
use runtime::effects::Outbox;
use runtime::envelope::{Envelope, SendJob};
use runtime::nats::topology::SEND_SUBJECT;
use sqlx::PgPool;
use uuid::Uuid;

/// How often and how patiently the sweeper works.
#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// Time between rounds.
    pub every: Duration,
    /// Age of a committed, unpublished row before the sweeper takes it.
    pub grace: Duration,
    /// How long dead letters are kept (`DEAD_LETTER_DAYS`): they hold users' texts.
    pub dead_letter_days: u32,
}

/// Runs sweeps forever (the task is dropped with the process).
pub async fn run(
    pool: PgPool,
    outbox: Outbox,
    js: async_nats::jetstream::Context,
    s: SweepSettings,
) {
    let mut tick = tokio::time::interval(s.every);
    loop {
        tick.tick().await;
        if let Err(e) = round(&pool, &outbox, &js, s).await {
            tracing::warn!(error = %e, "sweep failed; next round will retry");
        }
    }
}

/// One round: outbox, lost effects, pruning.
pub async fn round(
    pool: &PgPool,
    outbox: &Outbox,
    js: &async_nats::jetstream::Context,
    s: SweepSettings,
) -> Result<(), HandlerError> {
    outbox.sweep(s.grace, 500).await?;
    // A job that is alive looks at its effect at least every 30 s (back-off, pauses).
    let stale = (s.grace * 6).max(Duration::from_secs(45));
    requeue_effects(pool, js, stale).await?;
    prune(pool, s.dead_letter_days).await?;
    Ok(())
}

async fn requeue_effects(
    pool: &PgPool,
    js: &async_nats::jetstream::Context,
    stale: Duration,
) -> Result<(), HandlerError> {
    let rows: Vec<(i64, Vec<Uuid>)> = sqlx::query_as(
        "WITH picked AS (
             UPDATE effects SET swept_at = now()
             WHERE id IN (
                 SELECT id FROM effects
                 WHERE state = 'pending' AND created_at < now() - make_interval(secs => $1)
                   AND (lease_until IS NULL OR lease_until < now())
                   AND coalesce(touched_at, created_at) < now() - make_interval(secs => $1)
                   AND (swept_at IS NULL OR swept_at < now() - make_interval(secs => $1))
                 ORDER BY seq LIMIT 500 FOR UPDATE SKIP LOCKED)
             RETURNING chat_id, id, seq)
         SELECT chat_id, array_agg(id ORDER BY seq) FROM picked GROUP BY chat_id",
    )
    .bind(stale.as_secs_f64())
    .fetch_all(pool)
    .await?;
    for (chat_id, effects) in rows {
        tracing::warn!(
            chat_id,
            effects = effects.len(),
            "re-queueing effects whose send job was lost"
        );
        let job = SendJob {
            chat_id,
            effects,
            completes: None,
            action: None,
            action_at_ms: None,
        };
        let payload = serde_json::to_vec(&Envelope::new("sweeper", job)).expect("jobs serialize");
        js.send_publish(SEND_SUBJECT, runtime::envelope::stamped(payload.into()))
            .await
            .map_err(|e| HandlerError::transient(format!("publish: {e}")))?
            .await
            .map_err(|e| HandlerError::transient(format!("publish not stored: {e}")))?;
    }
    Ok(())
}

async fn prune(pool: &PgPool, dead_letter_days: u32) -> Result<(), HandlerError> {
    for sql in [
        "DELETE FROM processed_updates WHERE update_id IN (
             SELECT update_id FROM processed_updates
             WHERE processed_at < now() - interval '7 days' LIMIT 5000)",
        "DELETE FROM effects WHERE id IN (
             SELECT id FROM effects WHERE state <> 'pending' AND done_at < now() - interval '7 days'
             LIMIT 5000)",
        "DELETE FROM outbox WHERE job_id IN (
             SELECT job_id FROM outbox WHERE published_at < now() - interval '1 day' LIMIT 5000)",
    ] {
        sqlx::query(sql).execute(pool).await?;
    }
    sqlx::query(
        "DELETE FROM dead_letters WHERE id IN (
             SELECT id FROM dead_letters
             WHERE created_at < now() - make_interval(days => $1) LIMIT 5000)",
    )
    .bind(dead_letter_days as i32)
    .execute(pool)
    .await?;
    Ok(())
}
