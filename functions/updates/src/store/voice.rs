//! Voice notes' statements: where a user stands before a voice note is fetched (18+, seconds
//! used today, a transcription already made), the transcription kept, the seconds charged,
//! and the "answer in voice" setting.

use sqlx::{PgConnection, PgPool};

/// Where a user stands before their voice note is fetched.
#[derive(Debug, sqlx::FromRow)]
pub struct Before {
    /// They confirmed 18+.
    pub confirmed: bool,
    /// Seconds of voice notes they sent today.
    pub used: i32,
    /// The words of this voice note, when it was transcribed before.
    pub heard: Option<String>,
}

/// Reads where user `user_id` stands, and the transcription of `unique_id` if any (one
/// autocommitted statement, no lock).
pub async fn before(pool: &PgPool, user_id: i64, unique_id: &str) -> sqlx::Result<Before> {
    sqlx::query_as(
        "SELECT COALESCE(u.age_confirmed_at IS NOT NULL, false) AS confirmed,
                COALESCE(v.seconds, 0) AS used,
                (SELECT text FROM voice_transcripts WHERE file_unique_id = $2) AS heard
         FROM (SELECT $1::bigint AS id) x
         LEFT JOIN users u ON u.id = x.id
         LEFT JOIN voice_usage v ON v.user_id = x.id AND v.day = current_date",
    )
    .bind(user_id)
    .bind(unique_id)
    .fetch_one(pool)
    .await
}

/// Keeps the words of voice note `unique_id` (the first transcription stays) for a day, long
/// enough for any redelivery; older ones go in the same statement.
pub async fn keep(pool: &PgPool, user_id: i64, unique_id: &str, text: &str) -> sqlx::Result<()> {
    sqlx::query(
        "WITH old AS (DELETE FROM voice_transcripts WHERE created_at < now() - interval '1 day')
         INSERT INTO voice_transcripts (file_unique_id, user_id, text) VALUES ($1, $2, $3)
         ON CONFLICT (file_unique_id) DO NOTHING",
    )
    .bind(unique_id)
    .bind(user_id)
    .bind(text)
    .execute(pool)
    .await?;
    Ok(())
}

/// Adds `seconds` to what user `user_id` sent today (their earlier days are dropped).
pub async fn charge(c: &mut PgConnection, user_id: i64, seconds: u32) -> sqlx::Result<()> {
    sqlx::query(
        "WITH old AS (DELETE FROM voice_usage WHERE user_id = $1 AND day < current_date)
         INSERT INTO voice_usage (user_id, day, seconds) VALUES ($1, current_date, $2)
         ON CONFLICT (user_id, day) DO UPDATE SET seconds = voice_usage.seconds + $2",
    )
    .bind(user_id)
    .bind(i32::try_from(seconds).unwrap_or(i32::MAX))
    .execute(c)
    .await?;
    Ok(())
}

/// The "answer in voice" setting, set to `on` when given; returns it.
pub async fn answers_in_voice(
    c: &mut PgConnection,
    user_id: i64,
    on: Option<bool>,
) -> sqlx::Result<bool> {
    let (on,): (bool,) = sqlx::query_as(
        "UPDATE users SET voice_answers = COALESCE($2, voice_answers) WHERE id = $1
         RETURNING voice_answers",
    )
    .bind(user_id)
    .bind(on)
    .fetch_optional(c)
    .await?
    .unwrap_or((false,));
    Ok(on)
}
