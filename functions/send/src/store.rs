//! The statements fn-send runs besides claiming and finishing an effect ([`crate::lease`]).
//! Each is one autocommit statement: no transaction or lock is ever open while the Bot API is
//! called.

use std::time::Duration;

use companion::locale::Lang;
use sqlx::PgPool;
use uuid::Uuid;

/// A claimed effect, ready to send.
#[derive(Debug, sqlx::FromRow)]
pub struct Effect {
    /// Chat it goes to.
    pub chat_id: i64,
    /// Bot API method.
    pub method: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Photo bytes, for uploads.
    pub blob: Option<Vec<u8>>,
    /// A message the user sees (paced and ordered).
    pub visible: bool,
    /// Answers nobody (paced bot-wide).
    pub bulk: bool,
    /// Itself a failure notice.
    pub notice: bool,
    /// How long it has been failing for passing reasons (since its first failed try).
    pub failing_s: Option<f64>,
    /// The user blocked the bot or the chat is gone.
    pub unreachable: bool,
    /// For a visible effect: ms to wait for the chat's send slot (0: it is taken, go).
    pub wait_ms: i64,
    /// For an edit of another effect's message: that message's Telegram id, once it was sent.
    pub edit_target: Option<i64>,
    /// A streaming step whose answer's final text is already written: stale, dropped.
    pub superseded: bool,
}

#[cfg(test)]
impl Effect {
    /// A visible `sendMessage` to chat 7 with `params`, due now and never failed: the
    /// unit tests' starting point (they change what they look at).
    pub fn sample(params: serde_json::Value) -> Self {
        Self {
            chat_id: 7,
            method: "sendMessage".into(),
            params,
            blob: None,
            visible: true,
            bulk: false,
            notice: false,
            failing_s: None,
            unreachable: false,
            wait_ms: 0,
            edit_target: None,
            superseded: false,
        }
    }
}

/// Takes a send slot for `key`; zero when the send may go now, else how long to wait.
pub async fn pace(
    pool: &PgPool,
    key: &str,
    interval_ms: f64,
    burst_ms: f64,
) -> sqlx::Result<Duration> {
    let wait: i64 = sqlx::query_scalar("SELECT pace_take($1, $2, $3)")
        .bind(key)
        .bind(interval_ms)
        .bind(burst_ms)
        .fetch_one(pool)
        .await?;
    Ok(Duration::from_millis(wait.max(0) as u64))
}

/// Honours a 429: pauses `key` for `d`; returns whether the key was within its own limits
/// (then the flood wait is bot-wide).
pub async fn pause(pool: &PgPool, key: &str, d: Duration, interval_ms: f64) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "INSERT INTO send_pace (key, paused_until) VALUES ($1, now() + make_interval(secs => $2))
         ON CONFLICT (key) DO UPDATE
           SET paused_until = GREATEST(send_pace.paused_until, EXCLUDED.paused_until)
         RETURNING tat <= clock_timestamp() + make_interval(secs => $3 / 1000.0 + 0.05)",
    )
    .bind(key)
    .bind(d.as_secs_f64())
    .bind(interval_ms)
    .fetch_one(pool)
    .await
}

/// Marks an effect failed for good unless a sender holds it now (its send job was given up;
/// a duplicate job that holds it finishes it).
pub async fn failed(pool: &PgPool, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE effects SET state = 'failed', error = $2, done_at = now(), blob = NULL,
             lease_until = NULL, lease_token = NULL
         WHERE id = $1 AND state = 'pending' AND (lease_until IS NULL OR lease_until < now())",
    )
    .bind(id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user blocked the bot or the chat is gone: remember it (until they write again) and
/// drop every pending effect for the chat.
pub async fn unreachable(pool: &PgPool, chat_id: i64, why: &str) -> sqlx::Result<u64> {
    sqlx::query("UPDATE users SET unreachable_at = now() WHERE id = $1")
        .bind(chat_id)
        .execute(pool)
        .await?;
    let r = sqlx::query(
        "UPDATE effects SET state = 'failed', error = $2, done_at = now(), blob = NULL,
             lease_until = NULL WHERE chat_id = $1 AND state = 'pending'",
    )
    .bind(chat_id)
    .bind(why)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

/// The language the user of chat `chat_id` is spoken to in (English for groups and strangers):
/// their stored choice and Telegram code, decided by `Lang::for_user`.
pub async fn lang_of(pool: &PgPool, chat_id: i64) -> sqlx::Result<Lang> {
    let user: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT lang, language_code FROM users WHERE id = $1")
            .bind(chat_id)
            .fetch_optional(pool)
            .await?;
    Ok(user.map_or_else(Lang::default, |(chosen, code)| {
        Lang::for_user(chosen.as_deref(), code.as_deref())
    }))
}

/// Whether effects of effect `id`'s chat decided before it are still pending.
pub async fn earlier_pending(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM effects e JOIN effects p ON p.chat_id = e.chat_id
                        WHERE e.id = $1 AND p.state = 'pending' AND p.seq < e.seq)",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// The job ids whose status erasure `id` still has to remove from the KV bucket.
pub async fn erasure_jobs(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    let jobs: Option<Vec<Uuid>> = sqlx::query_scalar("SELECT jobs FROM erasures WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(jobs.unwrap_or_default())
}

/// Removes what is left of erased chat `chat_id` once erasure `erasure`'s final message
/// (effect `effect`) is done with (`erase_traces`).
pub async fn erase_traces(
    pool: &PgPool,
    chat_id: i64,
    erasure: Uuid,
    effect: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("SELECT erase_traces($1, $2, $3)")
        .bind(chat_id)
        .bind(erasure)
        .bind(effect)
        .execute(pool)
        .await?;
    Ok(())
}

/// Persona `girl` (the one named by the photo, or else the one whose cached avatar is
/// `file_id`) with her PNG and the file id Telegram has for her avatar now: what to send
/// instead when Telegram no longer knows `file_id` (a new bot token, another bot, a fresh
/// stand-in).
pub async fn avatar(
    pool: &PgPool,
    girl: Option<i64>,
    file_id: &str,
) -> sqlx::Result<Option<(i32, Vec<u8>, Option<String>)>> {
    sqlx::query_as(
        "SELECT g.id, g.avatar, e.telegram_file_id FROM girls g
         LEFT JOIN effects e ON e.id = g.avatar_effect_id
         WHERE g.avatar IS NOT NULL
           AND (g.id = $1 OR ($1 IS NULL AND e.telegram_file_id = $2))
         LIMIT 1",
    )
    .bind(girl)
    .bind(file_id)
    .fetch_optional(pool)
    .await
}

/// Effect `effect` uploaded persona `girl_id`'s avatar anew: later menus use its file id.
pub async fn avatar_uploaded(pool: &PgPool, girl_id: i32, effect: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE girls SET avatar_effect_id = $2 WHERE id = $1")
        .bind(girl_id)
        .bind(effect)
        .execute(pool)
        .await?;
    Ok(())
}
