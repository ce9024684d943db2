//! The Postgres statements fn-reply runs: where a job stands and what the model sees (one
//! statement), the answer with the messages that carry it (one statement, keyed by job id),
//! another version of an answer (keyed by job id too), a streaming step (written only while
//! the user has not pressed ⏹), and the mark on a message whose answer was given up on.

use companion::jobs::ReplyJob;
use companion::personas::lorebook::Stored;
use runtime::effects::{Committed, Decision};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

/// What she remembers about the user, as SQL over a dialog `d` and its user `u`: her facts,
/// and every persona's when the user shares them, newest first, as a JSON array of
/// [`crate::store::Known`] (the answer's and the nudge's statements read it alike).
macro_rules! known_facts_sql {
    () => {
        "COALESCE((SELECT json_agg(json_build_array(f.key, f.fact, f.mentions,
                          extract(epoch FROM now() - f.updated_at)::float8 / 86400,
                          f.girl_id = d.girl_id))
                   FROM (SELECT key, fact, mentions, updated_at, girl_id FROM memory_facts mf
                         WHERE mf.user_id = d.user_id
                           AND (mf.girl_id = d.girl_id OR u.memory_shared)
                         ORDER BY mf.updated_at DESC LIMIT 200) f), '[]'::json) AS facts"
    };
}
pub(crate) use known_facts_sql;

/// A past message as loaded: role, text, id.
pub type Turn = (String, String, i64);

/// A remembered fact as loaded: key, text, mentions, age in days, learned by this persona
/// (not shared from another).
pub type Known = (String, String, i32, f64, bool);

/// Where a job stands, read in its first statement.
#[derive(Debug, sqlx::FromRow)]
pub struct Begin {
    /// Its answer (or, for a new version, that version) is stored with its messages.
    pub answered: bool,
    /// An earlier message of the dialog (from the last 150 s, not given up on) still has no
    /// answer: this one waits, so answers come in order and each sees the last.
    pub earlier: bool,
    /// For a new version: how many versions the answer has now.
    pub versions: i32,
    /// The persona's system prompt; `None` when there is nothing to do (answered, earlier, or
    /// the dialog or message is gone).
    pub system_prompt: Option<String>,
    /// What goes after the history (may be empty).
    pub post_history: Option<String>,
    /// The user's first name, for `{{user}}`.
    pub user_name: Option<String>,
    /// The latest turns after the summary, up to the message answered, oldest first:
    /// `(role, content, id)`.
    pub turns: Option<Json<Vec<Turn>>>,
    /// The rolling summary of the messages before them (may be empty).
    pub summary: Option<String>,
    /// How many of the dialog's messages the summary does not cover.
    pub unsummarized: Option<i64>,
    /// The last message the summary covers.
    pub summary_upto: Option<i64>,
    /// The persona's name.
    pub persona: Option<String>,
    /// The dialog is adult (`nsfw_enabled`).
    pub adult: Option<bool>,
    /// A minor was brought into the dialog (`minor_cue_at`).
    pub minor_cue: Option<bool>,
    /// The message answered was withheld from the model (by an earlier delivery of this job).
    pub withheld: Option<bool>,
    /// The persona's lorebook (`None`: she has none).
    pub lorebook: Option<Json<Stored>>,
    /// What she remembers about the user (her facts, and every persona's when the user shares
    /// them), newest first.
    pub facts: Option<Json<Vec<Known>>>,
    /// User messages beyond the memory watermark, counted up to the batch size only.
    pub unremembered: Option<i64>,
    /// The last message whose facts were extracted.
    pub memory_upto: Option<i64>,
    /// The persona, when this answer asks whether she may write first (once per user and
    /// persona, after a few answers; marked asked by the statement that stores the answer).
    pub offer_nudge: Option<i32>,
    /// The user wants every answer as a voice note too.
    pub voice_answers: Option<bool>,
}

/// Marks job `id` received (published), says where it stands and, when it is to be answered
/// now, loads the persona (with her lorebook), the last `history` turns and what she
/// remembers about the user (counting up to `memory_every` user messages beyond the memory
/// watermark) — one statement. With `answer_id` (another version of that answer) the answer
/// itself is not among the turns.
pub async fn begin(
    pool: &PgPool,
    id: Uuid,
    job: &ReplyJob,
    (history, memory_every): (i64, i64),
    answer_id: Option<i64>,
) -> sqlx::Result<Begin> {
    sqlx::query_as(concat!(
        // An answer is placed right after the message it answers (its id may be larger than
        // later user messages when those arrived while it was being written).
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $1 AND published_at IS NULL),
         st AS (SELECT CASE WHEN $5::bigint IS NULL
                    THEN EXISTS (SELECT 1 FROM chat_messages WHERE job_id = $1)
                    ELSE EXISTS (SELECT 1 FROM chat_messages
                                 WHERE id = $5 AND $1 = ANY(COALESCE(variant_jobs, '{}'))) END
                AS answered,
                $5::bigint IS NULL AND EXISTS (SELECT 1 FROM chat_messages u
                 WHERE u.dialog_id = $2 AND u.role = 'user' AND u.id < $3
                   AND u.created_at > now() - interval '150 seconds' AND u.reply_failed_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM chat_messages a WHERE a.reply_to = u.id))
                AS earlier,
                COALESCE((SELECT COALESCE(cardinality(variants), 1) FROM chat_messages
                          WHERE id = $5), 1)::int AS versions),
         offer AS (SELECT s.girl_id FROM user_selected_girls s, dialogs od, st
                   WHERE $5::bigint IS NULL AND od.id = $2 AND s.user_id = od.user_id
                     AND s.girl_id = od.girl_id AND s.nudge_offered_at IS NULL AND NOT s.nudges
                     AND od.user_messages >= $7 AND od.minor_cue_at IS NULL
                     AND NOT st.answered AND NOT st.earlier)
         SELECT st.answered, st.earlier, st.versions, c.system_prompt, c.post_history,
                c.user_name, c.turns, c.summary, c.unsummarized, c.summary_upto,
                c.persona, c.adult, c.minor_cue, c.withheld, c.lorebook,
                c.facts, c.unremembered, c.memory_upto, c.voice_answers,
                (SELECT girl_id FROM offer) AS offer_nudge
         FROM st LEFT JOIN LATERAL (
             SELECT g.system_prompt, g.post_history, u.first_name AS user_name, COALESCE((
                 SELECT json_agg(json_build_array(t.role, t.content, t.id) ORDER BY t.k, t.id)
                 FROM (SELECT role, content, COALESCE(reply_to, id) AS k, id FROM chat_messages
                       WHERE dialog_id = $2 AND (id <= $3 OR reply_to < $3)
                         AND id > d.summary_upto AND withheld_at IS NULL
                       ORDER BY COALESCE(reply_to, id) DESC, id DESC LIMIT $4) t), '[]'::json)
                 AS turns, d.summary, d.summary_upto,
                 (SELECT count(*) FROM chat_messages x
                  WHERE x.dialog_id = $2 AND x.id > d.summary_upto) AS unsummarized,
                 g.name AS persona, d.nsfw_enabled AS adult, d.minor_cue_at IS NOT NULL AS minor_cue,
                 m.withheld_at IS NOT NULL AS withheld, g.lorebook,
                 ",
        known_facts_sql!(),
        ",
                 (SELECT count(*) FROM (SELECT 1 FROM chat_messages x
                   WHERE x.dialog_id = $2 AND x.id > d.memory_upto AND x.role = 'user'
                   LIMIT $6) w) AS unremembered, d.memory_upto, u.voice_answers
             FROM dialogs d
             JOIN girls g ON g.id = d.girl_id JOIN users u ON u.id = d.user_id
             JOIN chat_messages m ON m.id = $3 AND m.dialog_id = d.id
             WHERE d.id = $2 AND NOT st.answered AND NOT st.earlier) c ON true",
    ))
    .bind(id)
    .bind(job.dialog_id)
    .bind(job.user_message_id)
    .bind(history)
    .bind(answer_id)
    .bind(memory_every)
    .bind(companion::nudges::OFFER_AFTER)
    .fetch_one(pool)
    .await
}

/// Stores the answer of job `id` together with the decision that sends it, in one statement;
/// `carrier` is the effect whose message carries its buttons; `offered`: the persona whose
/// question "may she write first?" goes with it, marked asked in the same statement. `None`
/// when a copy that raced us stored its answer first (then nothing was written).
pub async fn answer(
    pool: &PgPool,
    id: Uuid,
    job: &ReplyJob,
    (text, carrier, offered): (&str, Uuid, Option<i32>),
    d: Decision,
) -> sqlx::Result<Option<Committed>> {
    const GATE: &str =
        "INSERT INTO chat_messages (dialog_id, role, content, job_id, reply_to, effect_id)
         VALUES ($12, 'assistant', $13, $14, $15, $16) ON CONFLICT (job_id) DO NOTHING
         RETURNING id";
    const OFFERED: &str = "UPDATE user_selected_girls s SET nudge_offered_at = now()
         FROM dialogs od, gate
         WHERE $17::int IS NOT NULL AND od.id = $12 AND s.user_id = od.user_id
           AND s.girl_id = $17 AND s.nudge_offered_at IS NULL";
    let stored = d
        .commit_gated_also::<(i64,)>(pool, (GATE, Some(OFFERED)), |q| {
            q.bind(job.dialog_id)
                .bind(text.to_owned())
                .bind(id)
                .bind(job.user_message_id)
                .bind(carrier)
                .bind(offered)
        })
        .await?;
    Ok(stored.map(|(_, committed)| committed))
}

/// What adding a version found.
pub enum Version {
    /// Stored, with the decision that shows it.
    Added(Committed),
    /// This job's version was stored before (a redelivery).
    Exists,
    /// The answer is no longer the dialog's last message (or is gone): the version is dropped.
    Moved,
    /// Another version was added meanwhile: the answer now has this many.
    Count(i32),
}

/// Versions an answer keeps: beyond them the oldest is dropped (each edit of the message it
/// answers and each 🔄 adds one).
pub const MAX_VERSIONS: i32 = 10;

/// Adds `text` as the newest version of answer `answer_id` (which had `versions`) and makes it
/// the chosen one, with the decision that shows it — only while it is the dialog's last
/// message, and once per job.
pub async fn add_version(
    pool: &PgPool,
    job: Uuid,
    answer_id: i64,
    versions: i32,
    text: &str,
    d: Decision,
) -> sqlx::Result<Version> {
    let gate = "UPDATE chat_messages m
                SET variants = (COALESCE(m.variants, ARRAY[m.content]) || $13::text)
                        [GREATEST(1, COALESCE(cardinality(m.variants), 1) + 2 - $16):],
                    variant = LEAST(COALESCE(cardinality(m.variants), 1), $16 - 1), content = $13,
                    variant_jobs = (COALESCE(m.variant_jobs, '{}') || $14::uuid)
                        [GREATEST(1, cardinality(m.variant_jobs) + 2 - 4 * $16):]
                WHERE m.id = $12 AND COALESCE(cardinality(m.variants), 1) = $15
                  AND NOT $14 = ANY(COALESCE(m.variant_jobs, '{}'))
                  AND NOT EXISTS (SELECT 1 FROM chat_messages l
                                  WHERE l.dialog_id = m.dialog_id AND l.id > m.id
                                    AND l.role <> 'system')
                RETURNING m.id";
    let added = d
        .commit_gated::<(i64,)>(pool, gate, |q| {
            q.bind(answer_id)
                .bind(text.to_owned())
                .bind(job)
                .bind(versions)
                .bind(MAX_VERSIONS)
        })
        .await?;
    if let Some((_, committed)) = added {
        return Ok(Version::Added(committed));
    }
    let state: Option<(bool, i32, bool)> = sqlx::query_as(
        "SELECT $2 = ANY(COALESCE(m.variant_jobs, '{}')), COALESCE(cardinality(m.variants), 1),
                EXISTS (SELECT 1 FROM chat_messages l WHERE l.dialog_id = m.dialog_id AND l.id > m.id)
         FROM chat_messages m WHERE m.id = $1",
    )
    .bind(answer_id)
    .bind(job)
    .fetch_optional(pool)
    .await?;
    Ok(match state {
        Some((true, _, _)) => Version::Exists,
        None | Some((_, _, true)) => Version::Moved,
        Some((false, n, false)) => Version::Count(n),
    })
}

/// Writes a streaming step (the draft or an edit of it) unless the user pressed ⏹ for the
/// answer to `user_message_id` or its final text (effect `last`) is written — by this
/// delivery or another one of the same job; `None` then (nothing written).
pub async fn stream_step(
    pool: &PgPool,
    user_message_id: i64,
    last: uuid::Uuid,
    d: Decision,
) -> sqlx::Result<Option<Committed>> {
    let gate = "SELECT id FROM chat_messages WHERE id = $12 AND stop_requested_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM effects WHERE id = $13)";
    let step = d
        .commit_gated::<(i64,)>(pool, gate, |q| q.bind(user_message_id).bind(last))
        .await?;
    Ok(step.map(|(_, committed)| committed))
}

/// Withholds user messages `ids`, and the answers already written to them, from every later
/// prompt and marks their dialog: together they brought a minor into it. Whatever memory
/// learned in that dialog is forgotten in the same statement. The refusal that answers them is
/// stored afterwards as any answer is.
pub async fn withhold(pool: &PgPool, dialog_id: i64, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query(
        "WITH w AS (UPDATE chat_messages SET withheld_at = COALESCE(withheld_at, now())
                    WHERE dialog_id = $1 AND (id = ANY($2) AND role = 'user'
                                              OR reply_to = ANY($2) AND role = 'assistant')),
              f AS (DELETE FROM memory_facts WHERE dialog_id = $1 OR source_message_id = ANY($2))
         UPDATE dialogs SET minor_cue_at = COALESCE(minor_cue_at, now()) WHERE id = $1",
    )
    .bind(dialog_id)
    .bind(ids)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks a user message whose answer was given up on, so it never holds the dialog.
pub async fn mark_unanswered(pool: &PgPool, message_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE chat_messages SET reply_failed_at = now() WHERE id = $1")
        .bind(message_id)
        .execute(pool)
        .await?;
    Ok(())
}
