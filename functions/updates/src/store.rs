//! The Postgres statements fn-updates runs, each inside the update's transaction.
//! (A user who writes to the bot can be reached again: `upsert_user` clears `unreachable_at`.)

use sqlx::{PgConnection, Row};

use crate::route::Sender;

/// Marks the update processed; `false` when it already was (a redelivery).
pub async fn claim_update(c: &mut PgConnection, update_id: i64) -> sqlx::Result<bool> {
    let r =
        sqlx::query("INSERT INTO processed_updates (update_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(update_id)
            .execute(c)
            .await?;
    Ok(r.rows_affected() == 1)
}

/// Serialises the updates of one chat across all copies of fn-updates until commit.
pub async fn lock_chat(c: &mut PgConnection, chat_id: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(chat_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Creates or refreshes the user; returns whether they confirmed 18+.
pub async fn upsert_user(c: &mut PgConnection, s: &Sender) -> sqlx::Result<bool> {
    let row = sqlx::query(
        "INSERT INTO users (id, first_name, username, language_code) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET first_name = $2, username = $3,
             language_code = COALESCE($4, users.language_code), updated_at = now(),
             unreachable_at = NULL
         RETURNING age_confirmed_at IS NOT NULL",
    )
    .bind(s.user_id)
    .bind(&s.first_name)
    .bind(&s.username)
    .bind(&s.language)
    .fetch_one(&mut *c)
    .await?;
    sqlx::query(
        "INSERT INTO user_retention (user_id) VALUES ($1)
         ON CONFLICT (user_id) DO UPDATE SET last_seen = now(),
             total_sessions = user_retention.total_sessions
                 + (user_retention.last_seen < now() - interval '30 minutes')::int,
             days_active = user_retention.days_active
                 + (user_retention.last_seen::date < current_date)::int",
    )
    .bind(s.user_id)
    .execute(c)
    .await?;
    Ok(row.get(0))
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
    bump_activity(c, user_id, Counter::Dialogs).await?;
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

/// Stores a user message (keyed by update id) and returns its id.
pub async fn store_user_message(
    c: &mut PgConnection,
    dialog_id: i64,
    update_id: i64,
    text: &str,
    user_id: i64,
) -> sqlx::Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO chat_messages (dialog_id, role, content, update_id) VALUES ($1, 'user', $2, $3) RETURNING id",
    )
    .bind(dialog_id)
    .bind(text)
    .bind(update_id)
    .fetch_one(&mut *c)
    .await?;
    sqlx::query("UPDATE dialogs SET updated_at = now() WHERE id = $1")
        .bind(dialog_id)
        .execute(&mut *c)
        .await?;
    sqlx::query("UPDATE user_retention SET total_messages = total_messages + 1 WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    bump_activity(c, user_id, Counter::Messages).await?;
    Ok(id)
}

enum Counter {
    Messages,
    Dialogs,
}

async fn bump_activity(c: &mut PgConnection, user_id: i64, counter: Counter) -> sqlx::Result<()> {
    let sql = match counter {
        Counter::Messages => {
            "INSERT INTO user_activity (user_id, activity_date, messages_count) VALUES ($1, current_date, 1)
             ON CONFLICT (user_id, activity_date) DO UPDATE SET messages_count = user_activity.messages_count + 1"
        }
        Counter::Dialogs => {
            "INSERT INTO user_activity (user_id, activity_date, dialogs_created) VALUES ($1, current_date, 1)
             ON CONFLICT (user_id, activity_date) DO UPDATE SET dialogs_created = user_activity.dialogs_created + 1"
        }
    };
    sqlx::query(sql).bind(user_id).execute(c).await?;
    Ok(())
}
