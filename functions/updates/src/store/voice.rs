//! Voice notes' statements: the reservation made before a voice note is fetched (18+, the
//! user's rate taken, the day's seconds checked and charged, all in one autocommitted
//! statement: a flood over the budget costs no transcription), the seconds measured in the
//! audio charged on top, the transcription kept for a redelivery, seconds given back for a note
//! that could not be heard, and the "answer in voice" setting.

use sqlx::{PgConnection, PgPool};

use crate::store::budget::Rate;

/// What the reservation of a voice note found.
#[derive(Debug, sqlx::FromRow)]
pub struct Reserve {
    /// They confirmed 18+.
    pub confirmed: bool,
    /// The update was handled already (a redelivery after its commit).
    pub seen: bool,
    /// Over the rate budget: wait this long (ms); nothing reserved.
    pub wait_ms: f64,
    /// The day's seconds would go over the limit; nothing reserved.
    pub over_limit: bool,
    /// The note is reserved (now or by an earlier delivery): it may be heard.
    pub reserved: bool,
    /// Its words, when an earlier delivery heard them.
    pub text: Option<String>,
    /// Seconds since it was first reserved.
    pub age_secs: f64,
}

/// Reserves voice note `update_id` of user `user_id`, `seconds` long: takes one message of
/// their `rate` and charges the seconds when they fit in `limit`; a redelivery finds its
/// reservation (charged once). One autocommitted statement, no lock.
pub async fn reserve(
    pool: &PgPool,
    user_id: i64,
    update_id: i64,
    seconds: u32,
    rate: Rate,
    limit: u32,
) -> sqlx::Result<Reserve> {
    sqlx::query_as(
        "WITH u AS (SELECT COALESCE(bool_or(age_confirmed_at IS NOT NULL), false) AS confirmed
                    FROM users WHERE id = $1),
         h AS (SELECT text, created_at FROM voice_transcripts WHERE update_id = $2),
         s AS (SELECT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = $2) AS seen),
         used AS (SELECT COALESCE((SELECT seconds FROM voice_usage
                                   WHERE user_id = $1 AND day = current_date), 0) AS used),
         go AS (SELECT u.confirmed AND NOT s.seen AND NOT EXISTS (SELECT 1 FROM h) AS fresh,
                       used.used + $3 > $6 AS over FROM u, s, used),
         w AS (SELECT CASE WHEN go.fresh THEN rate_take('user:' || $1, $4, $4, $5)
                      ELSE 0 END::float8 AS wait FROM go),
         ins AS (INSERT INTO voice_transcripts (update_id, user_id, seconds)
                 SELECT $2, $1, $3 FROM go, w WHERE go.fresh AND w.wait <= 0 AND NOT go.over
                 ON CONFLICT DO NOTHING RETURNING seconds),
         charged AS (INSERT INTO voice_usage (user_id, day, seconds)
                     SELECT $1, current_date, seconds FROM ins
                     ON CONFLICT (user_id, day)
                     DO UPDATE SET seconds = voice_usage.seconds + EXCLUDED.seconds RETURNING 1),
         old AS (DELETE FROM voice_usage WHERE user_id = $1 AND day < current_date),
         gone AS (DELETE FROM voice_transcripts WHERE created_at < now() - interval '1 day')
         SELECT u.confirmed, s.seen, w.wait AS wait_ms, go.fresh AND go.over AS over_limit,
                EXISTS (SELECT 1 FROM h) OR EXISTS (SELECT 1 FROM ins) AS reserved,
                (SELECT text FROM h) AS text,
                COALESCE(extract(epoch FROM now() - (SELECT created_at FROM h)), 0)::float8
                  AS age_secs
         FROM u, s, go, w",
    )
    .bind(user_id)
    .bind(update_id)
    .bind(i32::try_from(seconds).unwrap_or(i32::MAX))
    .bind(rate.interval_ms)
    .bind(rate.burst_ms)
    .bind(i32::try_from(limit).unwrap_or(i32::MAX))
    .fetch_one(pool)
    .await
}

/// Charges voice note `update_id` as `seconds` long when it was reserved shorter (the length
/// measured in the audio); returns the seconds user `user_id` has used today.
pub async fn measured(
    pool: &PgPool,
    user_id: i64,
    update_id: i64,
    seconds: u32,
) -> sqlx::Result<i64> {
    let (used,): (Option<i64>,) = sqlx::query_as(
        "WITH r AS (SELECT seconds AS before FROM voice_transcripts WHERE update_id = $2),
         t AS (UPDATE voice_transcripts SET seconds = $3 WHERE update_id = $2 AND seconds < $3
               RETURNING 1),
         c AS (UPDATE voice_usage SET seconds = voice_usage.seconds + ($3 - r.before)
               FROM r WHERE EXISTS (SELECT 1 FROM t) AND user_id = $1 AND day = current_date
               RETURNING voice_usage.seconds)
         SELECT COALESCE((SELECT seconds FROM c),
                         (SELECT seconds FROM voice_usage WHERE user_id = $1
                          AND day = current_date))::bigint",
    )
    .bind(user_id)
    .bind(update_id)
    .bind(i32::try_from(seconds).unwrap_or(i32::MAX))
    .fetch_one(pool)
    .await?;
    Ok(used.unwrap_or(0))
}

/// Keeps the words of voice note `update_id` for a redelivery (a day at most).
pub async fn keep(pool: &PgPool, update_id: i64, text: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE voice_transcripts SET text = $2 WHERE update_id = $1")
        .bind(update_id)
        .bind(text)
        .execute(pool)
        .await?;
    Ok(())
}

/// Gives back the seconds of voice note `update_id`, which could not be heard (the
/// reservation stays, charged nothing, so a redelivery is still recognised).
pub async fn release(pool: &PgPool, user_id: i64, update_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "WITH r AS (SELECT seconds FROM voice_transcripts WHERE update_id = $2),
         t AS (UPDATE voice_transcripts SET seconds = 0 WHERE update_id = $2)
         UPDATE voice_usage SET seconds = GREATEST(voice_usage.seconds - r.seconds, 0)
         FROM r WHERE user_id = $1 AND day = current_date",
    )
    .bind(user_id)
    .bind(update_id)
    .execute(pool)
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
