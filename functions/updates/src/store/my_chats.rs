//! "💬 My chats": a user's dialogs listed a page at a time, what a dialog is called, renaming
//! and deleting one.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A dialog as the list shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct Listed {
    /// The dialog.
    pub id: i64,
    /// What it is called: the user's title, else the persona and its first words.
    pub title: String,
    /// Last activity.
    pub updated_at: DateTime<Utc>,
    /// Messages in it.
    pub messages: i64,
    /// The user's dialogs in all.
    pub total: i64,
}

/// What a dialog is called, as SQL over `d` (dialogs) and `g` (girls).
macro_rules! title_sql {
    () => {
        "CASE WHEN d.title <> '' THEN d.title
              ELSE g.name || COALESCE(': ' || (SELECT left(f.content, 40) FROM chat_messages f
                   WHERE f.dialog_id = d.id AND f.role = 'user' ORDER BY f.id LIMIT 1), '') END"
    };
}

/// Page `page` (from 0, `per_page` long) of the user's dialogs, latest activity first.
pub async fn list(
    c: &mut PgConnection,
    user_id: i64,
    page: i16,
    per_page: i64,
) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(concat!(
        "SELECT d.id, ",
        title_sql!(),
        " AS title, d.updated_at,
                (SELECT count(*) FROM chat_messages m WHERE m.dialog_id = d.id) AS messages,
                count(*) OVER () AS total
         FROM dialogs d JOIN girls g ON g.id = d.girl_id
         WHERE d.user_id = $1
         ORDER BY d.updated_at DESC, d.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(user_id)
    .bind(per_page)
    .bind(i64::from(page) * per_page)
    .fetch_all(c)
    .await
}

/// What dialog `dialog_id` of the user is called; `None` when it is not theirs.
pub async fn title(
    c: &mut PgConnection,
    user_id: i64,
    dialog_id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(concat!(
        "SELECT ",
        title_sql!(),
        " FROM dialogs d JOIN girls g ON g.id = d.girl_id WHERE d.id = $2 AND d.user_id = $1"
    ))
    .bind(user_id)
    .bind(dialog_id)
    .fetch_optional(c)
    .await
}

/// Gives the user's dialog `dialog_id` the title `title`.
pub async fn rename(
    c: &mut PgConnection,
    user_id: i64,
    dialog_id: i64,
    title: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query("UPDATE dialogs SET title = $3 WHERE id = $2 AND user_id = $1")
        .bind(user_id)
        .bind(dialog_id)
        .bind(title)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes the user's dialog `dialog_id` with its messages and photos, in one statement; its
/// title, or `None` when it was not theirs.
pub async fn delete(
    c: &mut PgConnection,
    user_id: i64,
    dialog_id: i64,
) -> sqlx::Result<Option<String>> {
    // RETURNING sees the rows as they were before the statement (its messages included).
    sqlx::query_scalar(concat!(
        "DELETE FROM dialogs d USING girls g
         WHERE d.id = $2 AND d.user_id = $1 AND g.id = d.girl_id RETURNING ",
        title_sql!()
    ))
    .bind(user_id)
    .bind(dialog_id)
    .fetch_optional(c)
    .await
}
