//! A user's own row and what hangs on it as a whole: the 18+ confirmation, the language they
//! chose, the dialog they are renaming, when they last exported, and the count and erasure of
//! everything kept about them (`/delete_my_data`; their remembered facts go with the user row).

use sqlx::PgConnection;
use uuid::Uuid;

/// Records the 18+ confirmation (the first time only).
pub async fn confirm_age(c: &mut PgConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET age_confirmed_at = COALESCE(age_confirmed_at, now()) WHERE id = $1",
    )
    .bind(user_id)
    .execute(c)
    .await?;
    Ok(())
}

/// Sets the user's interface language (a `Lang::code`).
pub async fn set_lang(c: &mut PgConnection, user_id: i64, lang: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET lang = $2 WHERE id = $1")
        .bind(user_id)
        .bind(lang)
        .execute(c)
        .await?;
    Ok(())
}

/// Remembers that the user's next text (or none: `None`) is the title of `dialog_id`.
pub async fn renaming(
    c: &mut PgConnection,
    user_id: i64,
    dialog_id: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET renaming_dialog_id = $2 WHERE id = $1")
        .bind(user_id)
        .bind(dialog_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Claims the user's export for now, at most one every `every_secs`: `None` when they may
/// export, else the seconds to wait.
pub async fn claim_export(
    c: &mut PgConnection,
    user_id: i64,
    every_secs: f64,
) -> sqlx::Result<Option<i64>> {
    let wait: Option<f64> = sqlx::query_scalar(
        "WITH c AS (UPDATE users SET exported_at = now() WHERE id = $1
                      AND (exported_at IS NULL OR exported_at <= now() - make_interval(secs => $2))
                    RETURNING 1)
         SELECT CASE WHEN EXISTS (SELECT 1 FROM c) THEN NULL
                ELSE extract(epoch FROM exported_at + make_interval(secs => $2) - now())::float8 END
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .bind(every_secs)
    .fetch_one(c)
    .await?;
    Ok(wait.map(|w| w.ceil().max(1.0) as i64))
}

/// What the bot keeps about a user: their dialogs, messages, photos and remembered facts,
/// counted.
pub async fn kept(c: &mut PgConnection, user_id: i64) -> sqlx::Result<(i64, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM dialogs WHERE user_id = $1),
                        (SELECT count(*) FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
                         WHERE d.user_id = $1 AND m.role <> 'system'),
                        (SELECT count(*) FROM photos WHERE user_id = $1),
                        (SELECT count(*) FROM memory_facts WHERE user_id = $1)",
    )
    .bind(user_id)
    .fetch_one(c)
    .await
}

/// What an erasure removed.
#[derive(Debug, sqlx::FromRow)]
pub struct Erased {
    /// Dialogs.
    pub dialogs: i64,
    /// Messages.
    pub messages: i64,
    /// Photos.
    pub photos: i64,
    /// The jobs that named the user (their status is dropped once the erasure is told).
    pub jobs: Vec<Uuid>,
}

/// Erases the user and everything that names them (`erase_user`) and records the erasure as
/// `id` (fn-send finishes it once the user is told).
pub async fn erase(c: &mut PgConnection, user_id: i64, id: Uuid) -> sqlx::Result<Erased> {
    let erased: Erased = sqlx::query_as("SELECT * FROM erase_user($1)")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO erasures (id, dialogs, messages, photos, jobs)
                 VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(erased.dialogs)
    .bind(erased.messages)
    .bind(erased.photos)
    .bind(&erased.jobs)
    .execute(&mut *c)
    .await?;
    Ok(erased)
}
