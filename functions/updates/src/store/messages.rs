//! The messages of a user's dialogs: store a new text, make a failed one wait for an answer
//! again, browse a message's variants, stop a streaming answer, find the answer to write
//! again, store an edit, and read a whole dialog for `/export`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::route::Sender;

/// Stores a user message (keyed by update id) in the user's active dialog and counts it, in
/// one statement; returns `(dialog_id, message_id)`, or `None` when no dialog is open.
pub async fn store_text(
    c: &mut PgConnection,
    s: &Sender,
    update_id: i64,
    text: &str,
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "WITH d AS (
             SELECT s.active_dialog_id AS id FROM users u
             JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
             JOIN girls g ON g.id = s.girl_id AND g.is_active
             WHERE u.id = $1 AND s.active_dialog_id IS NOT NULL),
         m AS (INSERT INTO chat_messages (dialog_id, role, content, update_id, telegram_message_id)
               SELECT id, 'user', $2, $3, $4 FROM d RETURNING id, dialog_id),
         t AS (UPDATE dialogs SET updated_at = now(), nsfw_enabled = nsfw_enabled OR $5,
                   user_messages = user_messages + 1
               WHERE id IN (SELECT dialog_id FROM m)),
         r AS (SELECT track_activity($1, 1, 0, 0) AS tracked FROM m)
         SELECT m.dialog_id, m.id FROM m, r",
    )
    .bind(s.user_id)
    .bind(text)
    .bind(update_id)
    .bind(s.message_id)
    .bind(companion::content::nsfw::is_adult(text))
    .fetch_optional(c)
    .await
}

/// Makes user message `message_id` wait for an answer again after its answer was given up on;
/// returns its dialog, or `None` when it is not the user's or needs nothing.
pub async fn retry(
    c: &mut PgConnection,
    user_id: i64,
    message_id: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE chat_messages m SET reply_failed_at = NULL
         FROM dialogs d
         WHERE m.id = $2 AND d.id = m.dialog_id AND d.user_id = $1 AND m.role = 'user'
           AND m.reply_failed_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM chat_messages a WHERE a.reply_to = m.id)
         RETURNING m.dialog_id",
    )
    .bind(user_id)
    .bind(message_id)
    .fetch_optional(c)
    .await
}

/// A message switched to another of its variants.
#[derive(Debug, sqlx::FromRow)]
pub struct Swiped {
    /// The variant now chosen.
    pub content: String,
    /// How many variants there are.
    pub variants: i32,
    /// The dialog it belongs to.
    pub dialog_id: i64,
    /// For an answer: the user message it answers.
    pub reply_to: Option<i64>,
}

/// Makes variant `index` the content of message `message_id`, if it belongs to the user, has
/// that variant, and is still the dialog's last message (the history is never rewritten
/// under later turns).
pub async fn swipe(
    c: &mut PgConnection,
    user_id: i64,
    message_id: i64,
    index: i16,
) -> sqlx::Result<Option<Swiped>> {
    sqlx::query_as(
        "UPDATE chat_messages m SET variant = $3, content = m.variants[$3 + 1]
         FROM dialogs d
         WHERE m.id = $2 AND d.id = m.dialog_id AND d.user_id = $1
           AND $3 < cardinality(m.variants)
           AND NOT EXISTS (SELECT 1 FROM chat_messages l
                           WHERE l.dialog_id = m.dialog_id AND l.id > m.id
                             AND l.role <> 'system')
         RETURNING m.content, cardinality(m.variants) AS variants, m.dialog_id, m.reply_to",
    )
    .bind(user_id)
    .bind(message_id)
    .bind(index)
    .fetch_optional(c)
    .await
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
/// and whether it is the latest user message of its dialog. The facts memory drew from the old
/// text are forgotten in the same statement, and the memory watermark moves back before the
/// message so the new text is read again.
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
         t AS (UPDATE dialogs dl SET nsfw_enabled = nsfw_enabled OR $4,
                      memory_upto = LEAST(memory_upto, m.id - 1)
               FROM m WHERE dl.id = m.dialog_id),
         f AS (DELETE FROM memory_facts WHERE source_message_id IN (SELECT id FROM m))
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
/// One exported message: role, text, when, versions, the version shown.
pub type ExportedMessage = (
    String,
    String,
    DateTime<Utc>,
    Option<Vec<String>>,
    Option<i16>,
);

/// The user's current dialog, whole, as `/export` writes it.
#[derive(sqlx::FromRow)]
pub struct Exported {
    /// The persona's name.
    pub persona: String,
    /// The user's first name.
    pub user_name: String,
    /// When the dialog began.
    pub created_at: DateTime<Utc>,
    /// Its messages, oldest first (the history lines of sent photos left out).
    pub messages: sqlx::types::Json<Vec<ExportedMessage>>,
    /// What the persona remembers about the user, newest first, with when it was learned
    /// (read apart: `store::memory::exported`).
    #[sqlx(skip)]
    pub facts: Vec<(String, DateTime<Utc>)>,
}

/// The user's current dialog with all its messages, if they have one.
pub async fn exported(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Option<Exported>> {
    sqlx::query_as(
        "SELECT g.name AS persona, u.first_name AS user_name, dl.created_at,
                COALESCE((SELECT json_agg(json_build_array(m.role, m.content, m.created_at, m.variants, m.variant)
                                          ORDER BY m.id)
                          FROM chat_messages m WHERE m.dialog_id = dl.id AND m.role <> 'system'), '[]'::json)
                AS messages
         FROM users u
         JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
         JOIN dialogs dl ON dl.id = s.active_dialog_id
         JOIN girls g ON g.id = dl.girl_id
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await
}
