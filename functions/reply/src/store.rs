//! The Postgres statements fn-reply runs: where a job stands (answered? an earlier message
//! of the dialog still waiting?), the answer (keyed by job id), and the mark on a
//! message whose answer was given up on.

use shared::envelope::ReplyJob;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Where job `id` stands, in one statement that also marks it received (published): whether
/// its answer is stored (with its messages, committed together), and whether an earlier
/// message of the dialog (from the last 150 s, not given up on) still has no answer — then
/// this one waits, so answers come in order and each sees the last.
pub async fn state(pool: &PgPool, id: Uuid, job: &ReplyJob) -> sqlx::Result<(bool, bool)> {
    sqlx::query_as(
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL)
         SELECT EXISTS (SELECT 1 FROM chat_messages WHERE job_id = $1),
                EXISTS (SELECT 1 FROM chat_messages u
                 WHERE u.dialog_id = $2 AND u.role = 'user' AND u.id < $3
                   AND u.created_at > now() - interval '150 seconds' AND u.reply_failed_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM chat_messages a WHERE a.reply_to = u.id))",
    )
    .bind(id)
    .bind(job.dialog_id)
    .bind(job.user_message_id)
    .fetch_one(pool)
    .await
}

/// Stores the answer of job `id`; `None` when a copy that raced us stored one first.
pub async fn answer(
    c: &mut PgConnection,
    id: Uuid,
    job: &ReplyJob,
    text: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO chat_messages (dialog_id, role, content, job_id, reply_to)
         VALUES ($1, 'assistant', $2, $3, $4) ON CONFLICT (job_id) DO NOTHING RETURNING id",
    )
    .bind(job.dialog_id)
    .bind(text)
    .bind(id)
    .bind(job.user_message_id)
    .fetch_optional(c)
    .await
}

/// Marks a user message whose answer was given up on, so it never holds the dialog.
pub async fn mark_unanswered(pool: &PgPool, message_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_messages SET reply_failed_at = now() WHERE id = $1")
        .bind(message_id)
        .execute(pool)
        .await?;
    Ok(())
}
