//! A dialog's photo slot: reserved when a photo is asked for (fn-updates), given back when
//! the photo will not come (refused, dialog gone, given up: fn-prompt, fn-image), used when
//! it is sent (fn-image). A pending slot counts against the user's limits.

/// Gives photo job `id`'s slot back (the photo will not come: refused, dialog gone, given up),
/// so it does not count against the user's limits.
pub async fn release<'e>(db: impl sqlx::PgExecutor<'e>, id: uuid::Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE photo_jobs SET state = 'failed' WHERE job_id = $1 AND state = 'pending'")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
