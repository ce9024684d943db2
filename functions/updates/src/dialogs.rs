//! The Postgres statements about a user's dialogs, inside the update's transaction: the
//! personas to choose from (and their avatars' uploads), open a new dialog with the persona's
//! greetings, resume the latest one with a persona, browse a message's variants, and find or
//! check the dialog a photo is for.

use sqlx::PgConnection;

/// A dialog taken up again.
#[derive(Debug, sqlx::FromRow)]
pub struct Resumed {
    /// The dialog.
    pub dialog_id: i64,
    /// The persona's name.
    pub name: String,
    /// Messages in it.
    pub messages: i64,
    /// Her last message, if any.
    pub last: Option<String>,
}

/// Makes the user's latest dialog with persona `girl_id` the current one; `None` when they
/// have none (or the persona is gone).
pub async fn resume(
    c: &mut PgConnection,
    user_id: i64,
    girl_id: i32,
) -> sqlx::Result<Option<Resumed>> {
    let active: Option<i64> = sqlx::query_scalar(
        "SELECT s.active_dialog_id FROM user_selected_girls s
         JOIN dialogs d ON d.id = s.active_dialog_id AND d.user_id = s.user_id
         WHERE s.user_id = $1 AND s.girl_id = $2",
    )
    .bind(user_id)
    .bind(girl_id)
    .fetch_optional(&mut *c)
    .await?;
    match active {
        Some(dialog_id) => crate::chats::open(c, user_id, dialog_id).await,
        None => Ok(None),
    }
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

/// The persona the user is talking to, if any.
pub async fn current_persona(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "SELECT u.current_girl_id FROM users u JOIN girls g ON g.id = u.current_girl_id
         WHERE u.id = $1 AND g.is_active",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await
}

/// Opens a new dialog with a persona, stores her greeting and makes it the active dialog.
/// Returns `(dialog_id, greeting)`, or `None` when the persona is not available.
pub async fn open_dialog(
    c: &mut PgConnection,
    user_id: i64,
    girl_id: i32,
    seed: i64,
) -> sqlx::Result<Option<Opened>> {
    let Some((greeting, alternates)): Option<(String, Vec<String>)> = sqlx::query_as(
        "SELECT greeting, alternate_greetings FROM girls WHERE id = $1 AND is_active",
    )
    .bind(girl_id)
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    let first_name: String = sqlx::query_scalar("SELECT first_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *c)
        .await?;
    let mut greetings: Vec<String> = std::iter::once(&greeting)
        .chain(&alternates)
        .map(|g| companion::personas::expand_user(g, &first_name))
        .collect();
    let dialog_id: i64 = sqlx::query_scalar(
        "INSERT INTO dialogs (user_id, girl_id, image_seed) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(user_id)
    .bind(girl_id)
    .bind(seed)
    .fetch_one(&mut *c)
    .await?;
    // The first greeting is shown; the others are its variants, browsable in place.
    let message_id: i64 = sqlx::query_scalar(
        "INSERT INTO chat_messages (dialog_id, role, content, variants)
         VALUES ($1, 'assistant', $2, $3) RETURNING id",
    )
    .bind(dialog_id)
    .bind(&greetings[0])
    .bind((greetings.len() > 1).then_some(&greetings))
    .fetch_one(&mut *c)
    .await?;
    sqlx::query(
        "INSERT INTO user_selected_girls (user_id, girl_id, active_dialog_id) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, girl_id) DO UPDATE SET active_dialog_id = $3, updated_at = now()",
    )
    .bind(user_id)
    .bind(girl_id)
    .bind(dialog_id)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE users SET current_girl_id = $2 WHERE id = $1")
        .bind(user_id)
        .bind(girl_id)
        .execute(&mut *c)
        .await?;
    count_dialog(c, user_id).await?;
    Ok(Some(Opened {
        dialog_id,
        message_id,
        variants: greetings.len(),
        greeting: greetings.swap_remove(0),
    }))
}

/// A new dialog.
#[derive(Debug)]
pub struct Opened {
    /// The dialog.
    pub dialog_id: i64,
    /// Its greeting message (`chat_messages.id`).
    pub message_id: i64,
    /// The greeting shown.
    pub greeting: String,
    /// How many greetings there are to browse.
    pub variants: usize,
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

/// The dialog the user is talking in, if any.
pub async fn active_dialog(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT s.active_dialog_id FROM users u
         JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
         JOIN girls g ON g.id = s.girl_id AND g.is_active
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await
    .map(Option::flatten)
}

/// Whether the user's active dialog is adult, and its persona's name.
pub async fn active_persona(
    c: &mut PgConnection,
    user_id: i64,
) -> sqlx::Result<Option<(bool, String)>> {
    sqlx::query_as(
        "SELECT d.nsfw_enabled, g.name FROM users u
         JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
         JOIN dialogs d ON d.id = s.active_dialog_id
         JOIN girls g ON g.id = d.girl_id
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await
}

/// Whether `dialog_id` belongs to `user_id`.
pub async fn owns_dialog(c: &mut PgConnection, user_id: i64, dialog_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM dialogs WHERE id = $1 AND user_id = $2)")
        .bind(dialog_id)
        .bind(user_id)
        .fetch_one(c)
        .await
}

async fn count_dialog(c: &mut PgConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT track_activity($1, 0, 0, 1)")
        .bind(user_id)
        .execute(c)
        .await?;
    Ok(())
}

/// A persona as the picker shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct MenuPersona {
    /// Database id.
    pub id: i32,
    /// Display name.
    pub name: String,
    /// Age.
    pub age: i32,
    /// One-line pitch by language code.
    pub pitch: sqlx::types::Json<std::collections::BTreeMap<String, String>>,
    /// Her avatar as Telegram knows it, once uploaded.
    pub avatar_file_id: Option<String>,
    /// Her avatar's PNG, when Telegram does not have it yet.
    pub avatar: Option<Vec<u8>>,
}

/// Active personas for the menu, in their order.
pub async fn personas(c: &mut PgConnection) -> sqlx::Result<Vec<MenuPersona>> {
    sqlx::query_as(
        "SELECT g.id, g.name, g.age, g.pitch, e.telegram_file_id AS avatar_file_id,
                CASE WHEN e.telegram_file_id IS NULL THEN g.avatar END AS avatar
         FROM girls g LEFT JOIN effects e ON e.id = g.avatar_effect_id
         WHERE g.is_active ORDER BY g.sort_order, g.id",
    )
    .fetch_all(c)
    .await
}

/// Remembers that effect `effect` uploads persona `girl_id`'s avatar (its file id is kept).
pub async fn avatar_upload(
    c: &mut PgConnection,
    girl_id: i32,
    effect: uuid::Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE girls SET avatar_effect_id = $2 WHERE id = $1")
        .bind(girl_id)
        .bind(effect)
        .execute(c)
        .await?;
    Ok(())
}
