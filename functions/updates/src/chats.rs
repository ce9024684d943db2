//! The Postgres statements behind "💬 My chats", 🔄, ⏹, `/lang` and edited messages, inside
//! the update's transaction: list a user's dialogs a page at a time, continue, rename or
//! delete one, find the answer to write again, stop a streaming answer, store an edit.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::dialogs::Resumed;

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

/// Makes dialog `dialog_id` the one the user talks in (its persona becomes the current one);
/// `None` when it is not theirs or its persona is gone.
pub async fn open(
    c: &mut PgConnection,
    user_id: i64,
    dialog_id: i64,
) -> sqlx::Result<Option<Resumed>> {
    sqlx::query_as(
        "WITH d AS (SELECT d.id, d.girl_id, g.name FROM dialogs d
                    JOIN girls g ON g.id = d.girl_id AND g.is_active
                    WHERE d.id = $2 AND d.user_id = $1),
         s AS (INSERT INTO user_selected_girls (user_id, girl_id, active_dialog_id)
               SELECT $1, girl_id, id FROM d
               ON CONFLICT (user_id, girl_id) DO UPDATE
               SET active_dialog_id = EXCLUDED.active_dialog_id, updated_at = now()),
         u AS (UPDATE users SET current_girl_id = d.girl_id, renaming_dialog_id = NULL,
                   updated_at = now() FROM d WHERE users.id = $1)
         SELECT d.id AS dialog_id, d.name,
                (SELECT count(*) FROM chat_messages WHERE dialog_id = d.id) AS messages,
                (SELECT content FROM chat_messages WHERE dialog_id = d.id AND role = 'assistant'
                 ORDER BY id DESC LIMIT 1) AS last
         FROM d",
    )
    .bind(user_id)
    .bind(dialog_id)
    .fetch_optional(c)
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

/// Sets the user's interface language.
pub async fn set_lang(c: &mut PgConnection, user_id: i64, lang: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET lang = $2 WHERE id = $1")
        .bind(user_id)
        .bind(lang)
        .execute(c)
        .await?;
    Ok(())
}

/// Asks the answer to user message `message_id` to stop streaming; `false` when it is not
/// the user's or already answered.
pub async fn stop(c: &mut PgConnection, user_id: i64, message_id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE chat_messages m SET stop_requested_at = now() FROM dialogs d
         WHERE m.id = $2 AND d.id = m.dialog_id AND d.user_id = $1 AND m.role = 'user'
           AND NOT EXISTS (SELECT 1 FROM chat_messages a WHERE a.reply_to = m.id)",
    )
    .bind(user_id)
    .bind(message_id)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// An answer that may be written again.
#[derive(Debug, sqlx::FromRow)]
pub struct Answer {
    /// The user message it answers.
    pub user_message_id: i64,
    /// The answer.
    pub answer_id: i64,
    /// The effect that sent the message carrying it.
    pub effect_id: Option<Uuid>,
    /// Its dialog.
    pub dialog_id: i64,
    /// It is the dialog's last message.
    pub latest: bool,
}

/// The answer to user message `message_id` (or, without one, to the user's latest message in
/// their current dialog), if it is the user's and answered.
pub async fn answer_to(
    c: &mut PgConnection,
    user_id: i64,
    message_id: Option<i64>,
) -> sqlx::Result<Option<Answer>> {
    sqlx::query_as(
        "WITH q AS (
             SELECT m.id FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
             WHERE d.user_id = $1 AND m.role = 'user' AND (
                 m.id = $2 OR ($2::bigint IS NULL AND m.dialog_id = (
                     SELECT s.active_dialog_id FROM users u JOIN user_selected_girls s
                       ON s.user_id = u.id AND s.girl_id = u.current_girl_id WHERE u.id = $1)))
             ORDER BY m.id DESC LIMIT 1)
         SELECT q.id AS user_message_id, a.id AS answer_id, a.effect_id, a.dialog_id,
                NOT EXISTS (SELECT 1 FROM chat_messages l
                            WHERE l.dialog_id = a.dialog_id AND l.id > a.id
                              AND l.role <> 'system') AS latest
         FROM q JOIN chat_messages a ON a.reply_to = q.id AND a.role = 'assistant'
         ORDER BY a.id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(message_id)
    .fetch_optional(c)
    .await
}

/// Stores the new text of the user's message Telegram knows as `telegram_id`; returns it
/// and whether it is the latest user message of its dialog.
pub async fn edit(
    c: &mut PgConnection,
    user_id: i64,
    telegram_id: i64,
    text: &str,
) -> sqlx::Result<Option<(i64, bool)>> {
    sqlx::query_as(
        "WITH m AS (UPDATE chat_messages m SET content = $3 FROM dialogs d
             WHERE m.telegram_message_id = $2 AND m.role = 'user' AND d.id = m.dialog_id
               AND d.user_id = $1
             RETURNING m.id, m.dialog_id),
         t AS (UPDATE dialogs SET nsfw_enabled = nsfw_enabled OR $4
               WHERE id IN (SELECT dialog_id FROM m))
         SELECT m.id, NOT EXISTS (SELECT 1 FROM chat_messages l
             WHERE l.dialog_id = m.dialog_id AND l.role = 'user' AND l.id > m.id) FROM m",
    )
    .bind(user_id)
    .bind(telegram_id)
    .bind(text)
    .bind(companion::content::nsfw::is_adult(text))
    .fetch_optional(c)
    .await
}

/// The dialog of the user's stored message `telegram_id`, if it was stored.
pub async fn dialog_of_message(
    c: &mut PgConnection,
    user_id: i64,
    telegram_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT m.dialog_id FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
         WHERE m.telegram_message_id = $2 AND m.role = 'user' AND d.user_id = $1",
    )
    .bind(user_id)
    .bind(telegram_id)
    .fetch_optional(c)
    .await
}
