//! The hot path: a text message from a confirmed user in an open dialog, within their rate, in
//! one autocommitted statement ([`text_turn`]) — the message stored and counted, its reply job
//! written to the outbox — so a text turn costs one round trip.
//!
//! The reply job's JSON is serde's alone (`companion::jobs::ReplyJob` in an `Envelope`), built
//! here before the statement runs. Two things in it only the statement knows: the user's
//! language and the ids it creates. The language: the job is serialised once per language
//! the user may have chosen (`Lang::for_user` decides each), and once for no choice; the
//! statement picks the one for the stored choice. The ids: the job is serialised with
//! [`DIALOG_SLOT`] and [`MESSAGE_SLOT`], which the statement replaces, as text, with the
//! dialog's and the stored message's ids.

use companion::jobs::ReplyJob;
use companion::locale::Lang;
use runtime::effects::OutboxJob;
use runtime::envelope::Envelope;
use runtime::nats::topology::{REPLY_SUBJECT, schedule_subject};
use runtime::telemetry::hops::{self, Part};
use sqlx::PgPool;
use uuid::Uuid;

use super::budget::Rate;
use super::with_sender;
use crate::route::Sender;

/// What [`text_turn`] did.
#[derive(Debug)]
pub enum TextTurn {
    /// The message is stored and its reply job written to the outbox, to publish (with the
    /// user's nudge schedule, re-armed from this message, when they allowed the persona to
    /// write first).
    Stored(Vec<OutboxJob>),
    /// The update was claimed before: a redelivery.
    Seen,
    /// Not the hot path (the user has not confirmed 18+, has no open dialog, is over their
    /// rate or is renaming a dialog, or their language cannot be told without the general
    /// path): nothing was written; the update takes the general path.
    Other,
}

/// Stands for the dialog's id in the serialised job: no Telegram id or row id is near it, so
/// its text occurs in the job exactly where the id goes (checked before the statement runs).
pub const DIALOG_SLOT: i64 = i64::MIN;
/// Stands for the stored message's id, likewise.
pub const MESSAGE_SLOT: i64 = i64::MIN + 1;

/// The reply job of a text turn as serde writes it, for each choice the user may have stored.
#[derive(Debug, PartialEq)]
struct Jobs {
    /// The job's id and trace id.
    id: Uuid,
    trace_id: String,
    /// By the language code the user chose (`users.lang`).
    by_choice: serde_json::Value,
    /// For a user who chose none: decided from Telegram's `language_code` (this update's, or
    /// the one stored when the update has none); `None` when neither is known yet.
    unchosen: Option<String>,
}

/// The nudge schedule a turn re-arms (written only for a user who allowed the persona to write
/// first): the outbox row's id, its subject (the user's one schedule) and its payload, whose
/// job carries the same slots as the reply job.
struct Nudge {
    id: Uuid,
    subject: String,
    payload: String,
}

impl Nudge {
    fn new(job_id: Uuid, trace_id: &str, s: &Sender, silence: std::time::Duration) -> Option<Self> {
        let id = companion::nudges::schedule_id(job_id);
        let payload = ReplyJob {
            chat_id: s.chat_id,
            user_id: s.user_id,
            dialog_id: DIALOG_SLOT,
            user_message_id: MESSAGE_SLOT,
            nudge: true,
            ..Default::default()
        };
        let env = Envelope {
            id,
            trace_id: trace_id.to_owned(),
            payload,
        };
        let at = chrono::Utc::now() + silence;
        let wrapped = runtime::effects::schedule::wrap(at, REPLY_SUBJECT, &env);
        let payload = String::from_utf8(wrapped).ok()?;
        let once = |slot: i64| payload.matches(&slot.to_string()).count() == 1;
        (once(DIALOG_SLOT) && once(MESSAGE_SLOT)).then(|| Self {
            id,
            subject: schedule_subject(&companion::nudges::schedule_key(s.user_id)),
            payload,
        })
    }
}

/// What one run of the statement came to.
enum Ran {
    /// Done, or not the hot path.
    Turn(TextTurn),
    /// The update carries no Telegram language and the user chose none: the language is
    /// decided from Telegram's code stored with the user (`""`: none ever came).
    Undecided(String),
}

impl Jobs {
    /// The jobs, or `None` when a slot's text would not occur exactly once in them; `code` is
    /// Telegram's language code an unchosen language is decided from, if known.
    fn new(job_id: Uuid, trace_id: &str, s: &Sender, code: Option<&str>) -> Option<Self> {
        let job = |lang: Lang| {
            let payload = ReplyJob {
                chat_id: s.chat_id,
                user_id: s.user_id,
                dialog_id: DIALOG_SLOT,
                user_message_id: MESSAGE_SLOT,
                lang,
                regenerate: None,
                summarize: false,
                remember: false,
                nudge: false,
                speak: None,
            };
            let env = Envelope {
                id: job_id,
                trace_id: trace_id.to_owned(),
                payload,
            };
            let json = serde_json::to_string(&env).ok()?;
            let once = |slot: i64| json.matches(&slot.to_string()).count() == 1;
            (once(DIALOG_SLOT) && once(MESSAGE_SLOT)).then_some(json)
        };
        let mut by_choice = serde_json::Map::new();
        for lang in Lang::ALL {
            let chosen = job(Lang::for_user(Some(lang.code()), code))?;
            by_choice.insert(lang.code().to_owned(), chosen.into());
        }
        let unchosen = match code {
            Some(_) => Some(job(Lang::for_user(None, code))?),
            None => None,
        };
        Some(Self {
            id: job_id,
            trace_id: trace_id.to_owned(),
            by_choice: by_choice.into(),
            unchosen,
        })
    }
}

/// A text message in one statement, atomic without a transaction: serialises the chat (as
/// `updates::begin_update`), claims the update, refreshes the user, counts the message
/// (`track_activity`: retention, then the day's activity, the lock order used everywhere),
/// stores the message (turning the dialog adult when it reads so: `companion::content::nsfw`)
/// and writes the reply job (`job_id`, see the module's header) to the outbox.
/// Writes nothing unless the user confirmed 18+, has an open dialog that no minor was brought
/// into (`dialogs.minor_cue_at`) and is within their budget (taken only then). The statement's
/// snapshot predates the lock; that is sound because an update starts only after the older
/// updates of its chat are committed (fn-updates' per-chat order), so the lock only guards
/// against a copy handling the same update, which the claim settles.
/// An update without Telegram's language code, from a user who chose none, runs it twice: the
/// first run writes nothing and reads the code stored with the user, the second decides from
/// it (Rust alone decides a language: `Lang::for_user`).
pub async fn text_turn(
    pool: &PgPool,
    update_id: i64,
    s: &Sender,
    text: &str,
    (job_id, rate, silence): (Uuid, Rate, std::time::Duration),
    trace_id: &str,
) -> sqlx::Result<TextTurn> {
    let mut code = s.language.clone();
    let Some(nudge) = Nudge::new(job_id, trace_id, s, silence) else {
        return Ok(TextTurn::Other);
    };
    for _ in 0..2 {
        let Some(jobs) = Jobs::new(job_id, trace_id, s, code.as_deref()) else {
            return Ok(TextTurn::Other);
        };
        match run(pool, update_id, s, text, rate, (&jobs, &nudge)).await? {
            Ran::Turn(turn) => return Ok(turn),
            Ran::Undecided(stored) => code = Some(stored),
        }
    }
    Ok(TextTurn::Other)
}

/// One run of the hot-path statement with the jobs built for it.
async fn run(
    pool: &PgPool,
    update_id: i64,
    s: &Sender,
    text: &str,
    rate: Rate,
    (jobs, nudge): (&Jobs, &Nudge),
) -> sqlx::Result<Ran> {
    type Row = (bool, bool, Option<Vec<u8>>, Option<String>, Option<Vec<u8>>);
    let statement = with_sender(
        sqlx::query_as::<_, Row>(
            "WITH l AS (SELECT pg_advisory_xact_lock($2) AS locked),
         d0 AS (SELECT s.active_dialog_id AS id, COALESCE($15::jsonb ->> u.lang, $16) AS job,
                       COALESCE(u.language_code, '') AS code, s.nudges
               FROM l, users u
               JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
               JOIN girls g ON g.id = s.girl_id AND g.is_active
               JOIN dialogs dl ON dl.id = s.active_dialog_id AND dl.minor_cue_at IS NULL
               WHERE u.id = $3 AND u.age_confirmed_at IS NOT NULL
                 AND u.renaming_dialog_id IS NULL),
         rl AS (SELECT rate_take('user:' || $3, $11, $12) AS wait FROM d0 WHERE d0.job IS NOT NULL),
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
               SELECT $8, $9, $10, convert_to(
                   replace(replace(d.job, $17, m.dialog_id::text), $18, m.id::text), 'UTF8')
               FROM m, d, r RETURNING payload),
         n AS (INSERT INTO outbox (job_id, source, subject, payload)
               SELECT $19, $9, $20, convert_to(
                   replace(replace($21, $17, m.dialog_id::text), $18, m.id::text), 'UTF8')
               FROM m, d, r WHERE d.nudges RETURNING payload)
         SELECT EXISTS (SELECT 1 FROM d), EXISTS (SELECT 1 FROM c), (SELECT payload FROM o),
                (SELECT code FROM d0 WHERE job IS NULL), (SELECT payload FROM n)",
        ),
        update_id,
        s,
    )
    .bind(text)
    .bind(jobs.id)
    .bind(&jobs.trace_id)
    .bind(REPLY_SUBJECT)
    .bind(rate.interval_ms)
    .bind(rate.burst_ms)
    .bind(s.message_id)
    .bind(companion::content::nsfw::is_adult(text))
    .bind(&jobs.by_choice)
    .bind(&jobs.unchosen)
    .bind(DIALOG_SLOT.to_string())
    .bind(MESSAGE_SLOT.to_string())
    .bind(nudge.id)
    .bind(&nudge.subject)
    .bind(&nudge.payload);
    // The turn's one write, autocommitted: its commit.
    let row = hops::part(Part::Commit, statement.fetch_one(pool)).await?;
    Ok(Ran::Turn(match row {
        (_, _, _, Some(stored), _) => return Ok(Ran::Undecided(stored)),
        (_, _, Some(payload), _, schedule) => {
            let mut jobs = vec![OutboxJob {
                job_id: jobs.id,
                subject: REPLY_SUBJECT.to_owned(),
                payload,
            }];
            jobs.extend(schedule.map(|payload| OutboxJob {
                job_id: nudge.id,
                subject: nudge.subject.clone(),
                payload,
            }));
            TextTurn::Stored(jobs)
        }
        (true, false, None, _, _) => TextTurn::Seen,
        _ => TextTurn::Other,
    }))
}

#[cfg(test)]
mod tests;
