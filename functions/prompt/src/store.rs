//! The Postgres statements fn-prompt runs: whether the job was already decided, the
//! persona's look and the dialog's seed, and the latest turns of the dialog.

use shared::envelope::PromptJob;
use sqlx::PgPool;
use uuid::Uuid;

use crate::scene::Look;

/// Whether job `id`'s decision (an image job or a refusal) is already in the outbox; marks the
/// job itself received (published) in the same statement.
pub async fn decided(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL)
         SELECT EXISTS (SELECT 1 FROM outbox WHERE source = $1::text)",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// The persona's look, negative prompt and the dialog's fixed seed.
pub async fn look(pool: &PgPool, job: &PromptJob) -> sqlx::Result<(Look, String, i64)> {
    let (appearance, clothing, negative, seed): (String, String, String, i64) = sqlx::query_as(
        "SELECT g.appearance, g.clothing_description, g.negative_prompt, d.image_seed
         FROM dialogs d JOIN girls g ON g.id = d.girl_id WHERE d.id = $1 AND d.user_id = $2",
    )
    .bind(job.dialog_id)
    .bind(job.user_id)
    .fetch_one(pool)
    .await?;
    let look = Look {
        appearance,
        clothing,
    };
    Ok((look, negative, seed))
}

/// The latest six turns of the dialog, newest first: `(role, content)`.
pub async fn recent(pool: &PgPool, dialog_id: i64) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT role, content FROM chat_messages WHERE dialog_id = $1 ORDER BY id DESC LIMIT 6",
    )
    .bind(dialog_id)
    .fetch_all(pool)
    .await
}
