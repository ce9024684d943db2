//! The Postgres statements fn-updates runs, each inside the update's transaction.
//! The hot path (a text message) is two statements: [`begin_update`] and [`store_text`].

use sqlx::PgConnection;

use crate::route::Sender;

/// Opens an update's work, in one statement: serialises the chat's updates across all copies
/// (advisory lock until commit), then claims the update (`false`: a redelivery), and creates or
/// refreshes the user and their retention row (a user who writes can be reached again).
/// Returns `(claimed, age confirmed)`.
pub async fn begin_update(
    c: &mut PgConnection,
    update_id: i64,
    s: &Sender,
) -> sqlx::Result<(bool, bool)> {
    // Every part reads from `l`, so the lock is taken before anything is written.
    sqlx::query_as(
        "WITH l AS (SELECT pg_advisory_xact_lock($2) AS locked),
         c AS (INSERT INTO processed_updates (update_id) SELECT $1 FROM l
               ON CONFLICT DO NOTHING RETURNING 1),
         u AS (INSERT INTO users (id, first_name, username, language_code)
               SELECT $3, $4, $5, $6 FROM l
               ON CONFLICT (id) DO UPDATE SET first_name = EXCLUDED.first_name,
                   username = EXCLUDED.username,
                   language_code = COALESCE(EXCLUDED.language_code, users.language_code),
                   updated_at = now(), unreachable_at = NULL
               RETURNING age_confirmed_at IS NOT NULL AS confirmed),
         r AS (INSERT INTO user_retention (user_id) SELECT $3 FROM u
               ON CONFLICT (user_id) DO UPDATE SET last_seen = now(),
                   total_sessions = user_retention.total_sessions
                       + (user_retention.last_seen < now() - interval '30 minutes')::int,
                   days_active = user_retention.days_active
                       + (user_retention.last_seen::date < current_date)::int)
         SELECT EXISTS (SELECT 1 FROM c), (SELECT confirmed FROM u)",
    )
    .bind(update_id)
    .bind(s.chat_id)
    .bind(s.user_id)
    .bind(&s.first_name)
    .bind(&s.username)
    .bind(&s.language)
    .fetch_one(c)
    .await
}

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

/// Active personas for the menu: `(id, name)`.
pub async fn personas(c: &mut PgConnection) -> sqlx::Result<Vec<(i32, String)>> {
    sqlx::query_as("SELECT id, name FROM girls WHERE is_active ORDER BY sort_order, id")
        .fetch_all(c)
        .await
}

/// Opens a new dialog with a persona, stores her greeting and makes it the active dialog.
/// Returns `(dialog_id, greeting)`, or `None` when the persona is not available.
pub async fn open_dialog(
    c: &mut PgConnection,
    user_id: i64,
    girl_id: i32,
    seed: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    let Some((name, greeting)): Option<(String, String)> =
        sqlx::query_as("SELECT name, greeting FROM girls WHERE id = $1 AND is_active")
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
    let greeting = shared::personas::expand_user(&greeting, &first_name);
    let dialog_id: i64 = sqlx::query_scalar(
        "INSERT INTO dialogs (user_id, girl_id, title, image_seed) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(girl_id)
    .bind(format!("{name} · {}", chrono::Utc::now().format("%Y-%m-%d %H:%M")))
    .bind(seed)
    .fetch_one(&mut *c)
    .await?;
    sqlx::query(
        "INSERT INTO chat_messages (dialog_id, role, content) VALUES ($1, 'assistant', $2)",
    )
    .bind(dialog_id)
    .bind(&greeting)
    .execute(&mut *c)
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
    Ok(Some((dialog_id, greeting)))
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

/// Stores a user message (keyed by update id) in the user's active dialog and counts it, in
/// one statement; returns `(dialog_id, message_id)`, or `None` when no dialog is open.
pub async fn store_text(
    c: &mut PgConnection,
    user_id: i64,
    update_id: i64,
    text: &str,
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "WITH d AS (
             SELECT s.active_dialog_id AS id FROM users u
             JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
             JOIN girls g ON g.id = s.girl_id AND g.is_active
             WHERE u.id = $1 AND s.active_dialog_id IS NOT NULL),
         m AS (INSERT INTO chat_messages (dialog_id, role, content, update_id)
               SELECT id, 'user', $2, $3 FROM d RETURNING id, dialog_id),
         t AS (UPDATE dialogs SET updated_at = now() WHERE id IN (SELECT dialog_id FROM m)),
         r AS (UPDATE user_retention SET total_messages = total_messages + 1
               WHERE user_id = $1 AND EXISTS (SELECT 1 FROM m)),
         a AS (INSERT INTO user_activity (user_id, activity_date, messages_count)
               SELECT $1, current_date, 1 FROM m
               ON CONFLICT (user_id, activity_date)
               DO UPDATE SET messages_count = user_activity.messages_count + 1)
         SELECT dialog_id, id FROM m",
    )
    .bind(user_id)
    .bind(text)
    .bind(update_id)
    .fetch_optional(c)
    .await
}

async fn count_dialog(c: &mut PgConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_activity (user_id, activity_date, dialogs_created) VALUES ($1, current_date, 1)
         ON CONFLICT (user_id, activity_date) DO UPDATE SET dialogs_created = user_activity.dialogs_created + 1",
    )
    .bind(user_id)
    .execute(c)
    .await?;
    Ok(())
}
