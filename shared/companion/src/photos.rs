//! A dialog's photo slot, its whole life in one place: [`reserve`]d when a photo is asked for
//! (fn-updates), [`release`]d when the photo will not come (refused, dialog gone, given up:
//! fn-prompt, fn-image), [`used!`] when it is sent (fn-image). The slot is the photo job's
//! `photo_jobs` row; a pending slot counts against the user's limits for an hour.
//!
//! "Used" is SQL text, not a function: fn-image marks the slot used in the same statement
//! that stores the photo's history line and counters (one statement, one round trip), so this
//! module owns the fragment and fn-image splices it in at compile time.

use sqlx::PgConnection;
use uuid::Uuid;

/// Photo limits from configuration (`MAX_PHOTOS_PER_USER`, `MAX_PHOTOS_PER_DIALOG`,
/// `PHOTOS_IN_FLIGHT`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Photos one user may get in all.
    pub per_user: i64,
    /// Photos one dialog may get.
    pub per_dialog: i64,
    /// Photos one user may have rendering at once, across dialogs.
    pub in_flight: i64,
}

/// What reserving a slot found: the counts it judged by and whether the slot is now held,
/// with what the answer to the user needs (the persona's name, the message to reply to).
#[derive(Debug, sqlx::FromRow)]
pub struct Reserved {
    /// The dialog's persona.
    pub name: String,
    /// Photos the user has (done, or pending for less than an hour).
    pub by_user: i64,
    /// Of them, in this dialog.
    pub by_dialog: i64,
    /// A photo is rendering for the dialog, or the user has `in_flight` rendering.
    pub busy: bool,
    /// The slot is held (the job's row was inserted).
    pub reserved: bool,
    /// Telegram's id of the persona's latest sent message in the dialog.
    pub reply_to: Option<i64>,
}

/// Locks the user's row, counts their photos (done, or pending for less than an hour) and
/// inserts job `job`'s slot when both limits allow, none is rendering for the dialog and fewer
/// than `in_flight` for the user. Runs inside the caller's transaction (the lock is held until
/// it commits, so concurrent presses never pass a limit).
pub async fn reserve(
    c: &mut PgConnection,
    user: i64,
    dialog: i64,
    job: Uuid,
    limits: Limits,
) -> sqlx::Result<Reserved> {
    // Its own statement: under READ COMMITTED the counts below then read a snapshot taken
    // after the lock was granted, so they see every slot a concurrent press committed.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user)
        .execute(&mut *c)
        .await?;
    sqlx::query_as(
        "WITH used AS (
             SELECT count(*) AS by_user,
                    count(*) FILTER (WHERE dialog_id = $2) AS by_dialog,
                    coalesce(bool_or(dialog_id = $2 AND state = 'pending'
                                     AND created_at > now() - interval '10 minutes'), false) AS busy,
                    count(*) FILTER (WHERE state = 'pending'
                                     AND created_at > now() - interval '10 minutes') AS rendering
             FROM photo_jobs
             WHERE user_id = $1
               AND (state = 'done' OR (state = 'pending' AND created_at > now() - interval '1 hour'))),
         ins AS (
             INSERT INTO photo_jobs (job_id, user_id, dialog_id)
             SELECT $3, $1, $2 FROM used
             WHERE NOT busy AND rendering < $6 AND by_user < $4 AND by_dialog < $5
             RETURNING 1)
         SELECT g.name, used.by_user, used.by_dialog, used.busy OR used.rendering >= $6 AS busy, EXISTS (SELECT 1 FROM ins) AS reserved,
                (SELECT m.telegram_message_id FROM chat_messages m
                 WHERE m.dialog_id = $2 AND m.role = 'assistant' AND m.telegram_message_id IS NOT NULL
                 ORDER BY m.id DESC LIMIT 1) AS reply_to
         FROM used, dialogs d JOIN girls g ON g.id = d.girl_id WHERE d.id = $2",
    )
    .bind(user)
    .bind(dialog)
    .bind(job)
    .bind(limits.per_user)
    .bind(limits.per_dialog)
    .bind(limits.in_flight)
    .fetch_one(c)
    .await
}

/// Gives photo job `id`'s slot back (the photo will not come: refused, dialog gone, given up),
/// so it does not count against the user's limits.
pub async fn release<'e>(db: impl sqlx::PgExecutor<'e>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE photo_jobs SET state = 'failed' WHERE job_id = $1 AND state = 'pending'")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The SQL that marks the slot of the photo job whose id is parameter `$job` used (the photo
/// was sent): a data-modifying statement for a CTE of the caller's statement, e.g.
/// `concat!("WITH used AS (", companion::photos::used!("$3"), ") …")`.
#[doc(hidden)]
#[macro_export]
macro_rules! __photo_slot_used {
    ($job:literal) => {
        concat!("UPDATE photo_jobs SET state = 'done' WHERE job_id = ", $job)
    };
}

#[doc(inline)]
pub use crate::__photo_slot_used as used;

#[cfg(test)]
mod tests {
    use super::used;

    #[test]
    fn the_used_fragment_names_the_given_parameter() {
        assert_eq!(
            used!("$3"),
            "UPDATE photo_jobs SET state = 'done' WHERE job_id = $3"
        );
    }
}
