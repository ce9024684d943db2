//! The Postgres statements fn-updates runs. The hot path — a text message from a confirmed user
//! in an open dialog — is one autocommitted statement, [`text_turn`]; every other update runs
//! [`begin_update`] and its action's statements in one transaction.

use runtime::effects::OutboxJob;
use runtime::nats::topology::REPLY_SUBJECT;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgConnection, PgPool, Postgres};
use uuid::Uuid;

use crate::route::Sender;

/// How fast one user may write: a GCRA allowing a minute's worth at once, then one message per
/// `interval_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Time per message, ms.
    pub interval_ms: f64,
    /// Credit for a burst, ms.
    pub burst_ms: f64,
}

impl Rate {
    /// `per_minute` messages a minute.
    pub fn per_minute(per_minute: u32) -> Self {
        let interval_ms = 60_000.0 / f64::from(per_minute.max(1));
        Self {
            interval_ms,
            burst_ms: 60_000.0 - interval_ms,
        }
    }
}

/// Sends one chat may have waiting before it is heard again: a chat whose earlier answers
/// Telegram has not taken yet (a flood of menus) gets nothing more queued.
pub const MAX_QUEUED_SENDS: i64 = 40;

/// Takes `cost` texts' worth of the user's budget: `Ok(None)` when the update may go, else
/// `Some(wait)` and whether they should be told (the first time in this wait). A chat with
/// [`MAX_QUEUED_SENDS`] sends still waiting is over its budget too, for a few seconds.
pub async fn budget_take(
    c: &mut PgConnection,
    s: &Sender,
    rate: Rate,
    cost: f64,
) -> sqlx::Result<Option<(std::time::Duration, bool)>> {
    let (wait, tell): (i64, bool) = sqlx::query_as(
        "WITH q AS (SELECT count(*) AS queued FROM (SELECT 1 FROM effects
                     WHERE chat_id = $2 AND state = 'pending' LIMIT $6) p),
         t AS (SELECT CASE WHEN q.queued >= $6 THEN 5000
                      ELSE rate_take('user:' || $1, $5 * $3, $3, $4) END AS wait FROM q),
         n AS (UPDATE users SET rate_noted_until = now() + make_interval(secs => t.wait / 1000.0)
               FROM t WHERE t.wait > 0 AND id = $1
                 AND (rate_noted_until IS NULL OR rate_noted_until < now())
               RETURNING 1)
         SELECT t.wait, EXISTS (SELECT 1 FROM n) FROM t",
    )
    .bind(s.user_id)
    .bind(s.chat_id)
    .bind(rate.interval_ms)
    .bind(rate.burst_ms)
    .bind(cost)
    .bind(MAX_QUEUED_SENDS)
    .fetch_one(c)
    .await?;
    Ok((wait > 0).then(|| (std::time::Duration::from_millis(wait as u64), tell)))
}

/// What [`text_turn`] did.
#[derive(Debug)]
pub enum TextTurn {
    /// The message is stored and its reply job written to the outbox, to publish.
    Stored(OutboxJob),
    /// The update was claimed before: a redelivery.
    Seen,
    /// Not the hot path (the user has not confirmed 18+, has no open dialog, is over their
    /// rate or is renaming a dialog): nothing was written; the update takes the general path.
    Other,
}

/// A text message in one statement, atomic without a transaction: serialises the chat (as
/// [`begin_update`]), claims the update, refreshes the user, counts the message
/// (`track_activity`: retention, then the day's activity, the lock order used everywhere),
/// stores the message (turning the dialog adult when it reads so: `companion::content::nsfw`) and writes
/// the reply job (`job_id`, payload built here) to the outbox.
/// Writes nothing unless the user confirmed 18+, has an open dialog that no minor was brought
/// into (`dialogs.minor_cue_at`) and is within their budget (taken only then). The statement's
/// snapshot predates the lock; that is sound because an update starts only after the older
/// updates of its chat are committed (fn-updates' per-chat order), so the lock only guards
/// against a copy handling the same update, which the claim settles.
pub async fn text_turn(
    pool: &PgPool,
    update_id: i64,
    s: &Sender,
    text: &str,
    job_id: Uuid,
    trace_id: &str,
    rate: Rate,
) -> sqlx::Result<TextTurn> {
    let row: (bool, bool, Option<Vec<u8>>) = with_sender(
        sqlx::query_as(
            "WITH l AS (SELECT pg_advisory_xact_lock($2) AS locked),
         d0 AS (SELECT s.active_dialog_id AS id,
                      ui_lang(u.lang, COALESCE($6, u.language_code)) AS lang FROM l, users u
               JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
               JOIN girls g ON g.id = s.girl_id AND g.is_active
               JOIN dialogs dl ON dl.id = s.active_dialog_id AND dl.minor_cue_at IS NULL
               WHERE u.id = $3 AND u.age_confirmed_at IS NOT NULL
                 AND u.renaming_dialog_id IS NULL),
         rl AS (SELECT rate_take('user:' || $3, $11, $12) AS wait FROM d0),
         d AS (SELECT d0.* FROM d0, rl WHERE rl.wait = 0),
         c AS (INSERT INTO processed_updates (update_id) SELECT $1 FROM d
               ON CONFLICT DO NOTHING RETURNING 1),
         m AS (INSERT INTO chat_messages (dialog_id, role, content, update_id, telegram_message_id)
               SELECT d.id, 'user', $7, $1, $13 FROM d, c RETURNING id, dialog_id),
         u AS (UPDATE users SET first_name = $4, username = $5,
                   language_code = COALESCE($6, language_code), updated_at = now(),
                   unreachable_at = NULL
               WHERE id = $3 AND EXISTS (SELECT 1 FROM m)),
         t AS (UPDATE dialogs SET updated_at = now(), nsfw_enabled = nsfw_enabled OR $14,
                   user_messages = user_messages + 1
               WHERE id IN (SELECT dialog_id FROM m)),
         r AS (SELECT track_activity($3, 1, 0, 0) AS tracked FROM m),
         o AS (INSERT INTO outbox (job_id, source, subject, payload)
               SELECT $8, $9, $10, convert_to(json_build_object(
                   'id', $8, 'trace_id', $9,
                   'payload', json_build_object('chat_id', $2, 'user_id', $3,
                       'dialog_id', m.dialog_id, 'user_message_id', m.id,
                       'lang', d.lang))::text, 'UTF8')
               FROM m, d, r RETURNING payload)
         SELECT EXISTS (SELECT 1 FROM d), EXISTS (SELECT 1 FROM c), (SELECT payload FROM o)",
        ),
        update_id,
        s,
    )
    .bind(text)
    .bind(job_id)
    .bind(trace_id)
    .bind(REPLY_SUBJECT)
    .bind(rate.interval_ms)
    .bind(rate.burst_ms)
    .bind(s.message_id)
    .bind(companion::content::nsfw::is_adult(text))
    .fetch_one(pool)
    .await?;
    Ok(match row {
        (_, _, Some(payload)) => TextTurn::Stored(OutboxJob {
            job_id,
            subject: REPLY_SUBJECT.to_owned(),
            payload,
        }),
        (true, false, None) => TextTurn::Seen,
        _ => TextTurn::Other,
    })
}

/// Binds `$1`–`$6`: the update id, then the sender's chat, id, first name, username, language.
fn with_sender<'q, T>(
    q: QueryAs<'q, Postgres, T, PgArguments>,
    update_id: i64,
    s: &'q Sender,
) -> QueryAs<'q, Postgres, T, PgArguments> {
    q.bind(update_id)
        .bind(s.chat_id)
        .bind(s.user_id)
        .bind(&s.first_name)
        .bind(&s.username)
        .bind(&s.language)
}

/// Opens an update's work, in one statement: serialises the chat's updates across all copies
/// (advisory lock until commit), then claims the update (`false`: a redelivery), creates or
/// refreshes the user (a user who writes can be reached again) and, once per update, counts
/// them active (`track_activity`; `tracked` is selected so that it runs).
pub async fn begin_update(c: &mut PgConnection, update_id: i64, s: &Sender) -> sqlx::Result<Begun> {
    // Every part reads from `l`, so the lock is taken before anything is written.
    with_sender(
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
               RETURNING age_confirmed_at IS NOT NULL AS confirmed,
                   ui_lang(lang, language_code) AS lang, renaming_dialog_id),
         r AS (SELECT track_activity($3, 0, 0, 0) AS tracked FROM u, c)
         SELECT EXISTS (SELECT 1 FROM c) AS claimed, u.confirmed, u.lang, u.renaming_dialog_id,
                (SELECT count(*) FROM r) AS tracked
         FROM u",
        ),
        update_id,
        s,
    )
    .fetch_one(c)
    .await
}

/// Where an update's user stands, read as its work opens.
#[derive(Debug, sqlx::FromRow)]
pub struct Begun {
    /// `false`: the update was claimed before (a redelivery).
    pub claimed: bool,
    /// The user confirmed 18+.
    pub confirmed: bool,
    /// The interface language code (`ui_lang`).
    pub lang: String,
    /// The dialog whose new title the user's next text is.
    pub renaming_dialog_id: Option<i64>,
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

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn a_minutes_worth_at_once_then_one_per_interval() {
        let r = Rate::per_minute(20);
        assert_eq!(r.interval_ms, 3000.0);
        // GCRA: the burst credit admits 20 at once (19 intervals of credit plus the first).
        assert_eq!(((r.burst_ms / r.interval_ms) as u32) + 1, 20);
        assert_eq!(
            Rate::per_minute(0).interval_ms,
            60_000.0,
            "never divides by zero"
        );
    }
}
