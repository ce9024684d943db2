//! The Postgres statements fn-image runs: whether a job's photo is stored, and storing it with
//! its counters (photos used per persona, retention, daily activity), its slot marked used
//! (`companion::photos::used!`, where the slot's whole life is written) and the history line,
//! once per job; and the render a backend queued for the job ([`Render`]: ComfyUI's prompt id,
//! kept on the job's slot row), so a redelivery waits for it instead of rendering again.

use companion::jobs::ImageJob;
use runtime::envelope::Envelope;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Whether job `id`'s photo is stored (its message committed with it); marks the job
/// received (published) in the same statement.
pub async fn stored(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL)
         SELECT EXISTS (SELECT 1 FROM photos WHERE job_id = $1)",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// What [`record`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored and counted now: commit and send it.
    Fresh,
    /// A copy that raced us stored it first.
    Before,
    /// The dialog is gone (deleted, or the user erased their data): nothing to send.
    Gone,
}

/// Stores the photo row (its message is effect `effect`) and counts it, once per job.
pub async fn record(
    c: &mut PgConnection,
    env: &Envelope<ImageJob>,
    effect: Uuid,
) -> sqlx::Result<Recorded> {
    let job = &env.payload;
    let (fresh, dialog): (bool, bool) = sqlx::query_as(
        "WITH d AS (SELECT 1 FROM dialogs WHERE id = $2 AND user_id = $3),
              p AS (INSERT INTO photos (job_id, dialog_id, user_id, prompt, seed, effect_id)
                    SELECT $1, $2, $3, $4, $5, $6 FROM d ON CONFLICT (job_id) DO NOTHING
                    RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM p), EXISTS (SELECT 1 FROM d)",
    )
    .bind(env.id)
    .bind(job.dialog_id)
    .bind(job.user_id)
    .bind(&job.prompt)
    .bind(job.seed)
    .bind(effect)
    .fetch_one(&mut *c)
    .await?;
    if !dialog {
        return Ok(Recorded::Gone);
    }
    if !fresh {
        return Ok(Recorded::Before);
    }
    // One statement: the slot used, the history line, and the counters (`track_activity`:
    // retention, then the day's activity, the one lock order every function uses).
    sqlx::query(concat!(
        "WITH used AS (",
        companion::photos::used!("$3"),
        "),
              told AS (INSERT INTO chat_messages (dialog_id, role, content)
                       SELECT $2, 'system', $4::text WHERE $4::text <> ''),
              persona AS (UPDATE user_selected_girls s SET photos_used = photos_used + 1
                          FROM dialogs d WHERE d.id = $2 AND s.user_id = $1 AND s.girl_id = d.girl_id),
              dialog AS (UPDATE dialogs SET photos_sent = photos_sent + 1 WHERE id = $2)
         SELECT track_activity($1, 0, 1, 0)"
    ))
    .bind(job.user_id)
    .bind(job.dialog_id)
    .bind(env.id)
    .bind(&job.history)
    .execute(&mut *c)
    .await?;
    Ok(Recorded::Fresh)
}

/// The render an earlier delivery of a job queued on the image server.
#[derive(Debug, Clone, PartialEq)]
pub struct Render {
    /// The server's id for it; `None` when the delivery stopped between queueing it and
    /// recording the answer (the render may or may not be on the server).
    pub id: Option<String>,
    /// How long ago it was queued.
    pub age: Duration,
}

/// Job `id`'s render, if a delivery queued one.
pub async fn render(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Render>> {
    let row: Option<(Option<String>, f64)> = sqlx::query_as(
        "SELECT render_id, extract(epoch FROM now() - render_posted_at)::float8
         FROM photo_jobs WHERE job_id = $1 AND render_posted_at IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, age)| Render {
        id,
        age: Duration::from_secs_f64(age.max(0.0)),
    }))
}

/// Notes that job `id`'s render is about to be queued (forgetting any earlier one, which the
/// server no longer has). False when the job has no slot row (its user erased their data):
/// then nothing can be kept.
pub async fn render_queueing(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE photo_jobs SET render_posted_at = now(), render_id = NULL WHERE job_id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records the server's id `render` for job `id`'s queued render.
pub async fn render_queued(pool: &PgPool, id: Uuid, render: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE photo_jobs SET render_id = $2, render_posted_at = coalesce(render_posted_at, now())
         WHERE job_id = $1",
    )
    .bind(id)
    .bind(render)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets job `id`'s render once the job is given up.
pub async fn render_dropped(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE photo_jobs SET render_id = NULL, render_posted_at = NULL WHERE job_id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}
