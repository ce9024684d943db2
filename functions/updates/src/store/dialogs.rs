//! A user's dialogs: open a new one with the persona's greetings (in the user's language when
//! her card has them), resume the latest one with a persona or a chosen one, find the current
//! persona and the active dialog, check a dialog is the user's, and the minor-safety gate's
//! view of a dialog (and its mark). "💬 My chats" (the list, titles, rename, delete) is
//! `my_chats`.

use companion::locale::Lang;
use sqlx::PgConnection;
use sqlx::types::Json;

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
        Some(dialog_id) => open(c, user_id, dialog_id).await,
        None => Ok(None),
    }
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

/// Opens a new dialog with a persona, stores her greeting — in the user's language `lang`
/// when her card has greetings in it, else her own — and makes it the active dialog.
/// Returns `(dialog_id, greeting)`, or `None` when the persona is not available.
pub async fn open_dialog(
    c: &mut PgConnection,
    user_id: i64,
    girl_id: i32,
    seed: i64,
    lang: Lang,
) -> sqlx::Result<Option<Opened>> {
    type Greetings = (String, Vec<String>, Option<Json<Vec<String>>>, String);
    let Some((greeting, alternates, localized, first_name)): Option<Greetings> = sqlx::query_as(
        "SELECT g.greeting, g.alternate_greetings, g.greetings -> $3, u.first_name
         FROM girls g, users u WHERE g.id = $1 AND g.is_active AND u.id = $2",
    )
    .bind(girl_id)
    .bind(user_id)
    .bind(lang.code())
    .fetch_optional(&mut *c)
    .await?
    else {
        return Ok(None);
    };
    let own = || {
        std::iter::once(greeting.clone())
            .chain(alternates.clone())
            .collect()
    };
    let mut greetings: Vec<String> = localized
        .map(|Json(g)| g)
        .filter(|g| !g.is_empty())
        .unwrap_or_else(own)
        .iter()
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

/// Whether `dialog_id` belongs to `user_id`.
pub async fn owns_dialog(c: &mut PgConnection, user_id: i64, dialog_id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM dialogs WHERE id = $1 AND user_id = $2)")
        .bind(dialog_id)
        .bind(user_id)
        .fetch_one(c)
        .await
}

/// Counts a new dialog in the user's activity (`track_activity`).
async fn count_dialog(c: &mut PgConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT track_activity($1, 0, 0, 1)")
        .bind(user_id)
        .execute(c)
        .await?;
    Ok(())
}

/// The dialog a text is screened in.
#[derive(Debug, sqlx::FromRow)]
pub struct Screened {
    /// The dialog.
    pub id: i64,
    /// It turned adult.
    pub adult: bool,
    /// A minor was brought into it (`minor_cue_at`).
    pub cue: bool,
    /// Its persona's name.
    pub name: String,
}

/// Dialog `dialog` of `user`, or their active one, as the minor-safety gate reads it.
pub async fn screened(
    c: &mut PgConnection,
    user: i64,
    dialog: Option<i64>,
) -> sqlx::Result<Option<Screened>> {
    sqlx::query_as(
        "SELECT d.id, d.nsfw_enabled AS adult, d.minor_cue_at IS NOT NULL AS cue, g.name
         FROM dialogs d JOIN girls g ON g.id = d.girl_id
         WHERE d.user_id = $1 AND d.id = COALESCE($2, (
             SELECT s.active_dialog_id FROM users u
             JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
             WHERE u.id = $1))",
    )
    .bind(user)
    .bind(dialog)
    .fetch_optional(c)
    .await
}

/// Marks dialog `id`: a minor was brought into it. What memory learned in it is forgotten in
/// the same statement (and nothing more is learned there: see fn-reply's `memory`).
pub async fn mark(c: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "WITH f AS (DELETE FROM memory_facts WHERE dialog_id = $1)
         UPDATE dialogs SET minor_cue_at = COALESCE(minor_cue_at, now()) WHERE id = $1",
    )
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}
