//! The Postgres statements fn-image runs: whether a job's photo is stored, and storing it with
//! its counters (photos used per persona, retention, daily activity), its slot marked used and
//! the history line, once per job.

use shared::envelope::{Envelope, ImageJob};
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

/// Stores the photo row (its message is effect `effect`) and counts it; `false` when the job
/// already had one.
pub async fn record(
    c: &mut PgConnection,
    env: &Envelope<ImageJob>,
    effect: Uuid,
) -> sqlx::Result<bool> {
    let job = &env.payload;
    let fresh = sqlx::query(
        "INSERT INTO photos (job_id, dialog_id, user_id, prompt, seed, effect_id)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job_id) DO NOTHING",
    )
    .bind(env.id)
    .bind(job.dialog_id)
    .bind(job.user_id)
    .bind(&job.prompt)
    .bind(job.seed)
    .bind(effect)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(false);
    }
    // One statement: the slot used, the history line, and the counters.
    sqlx::query(
        "WITH used AS (UPDATE photo_jobs SET state = 'done' WHERE job_id = $3),
              told AS (INSERT INTO chat_messages (dialog_id, role, content)
                       SELECT $2, 'system', $4::text WHERE $4::text <> ''),
              persona AS (UPDATE user_selected_girls s SET photos_used = photos_used + 1
                          FROM dialogs d WHERE d.id = $2 AND s.user_id = $1 AND s.girl_id = d.girl_id),
              retention AS (UPDATE user_retention SET total_photos = total_photos + 1 WHERE user_id = $1)
         INSERT INTO user_activity (user_id, activity_date, photos_generated) VALUES ($1, current_date, 1)
         ON CONFLICT (user_id, activity_date)
         DO UPDATE SET photos_generated = user_activity.photos_generated + 1",
    )
    .bind(job.user_id)
    .bind(job.dialog_id)
    .bind(env.id)
    .bind(&job.history)
    .execute(&mut *c)
    .await?;
    Ok(true)
}
