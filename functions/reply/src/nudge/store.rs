//! The statements of a nudge: where it stands when it fires (one statement: every rule that
//! may stop it, the user's clock, and what the model needs), and the nudge stored as an
//! assistant message of the dialog with its `nudges` row and the bulk send that carries it
//! (keyed by the nudge id) — only if every rule still lets it through as it is stored: the
//! user may have turned nudges off, written, blocked the bot or brought a minor up while the
//! model wrote it. The rules are written once ([`rules`]) and read by both statements.

use companion::jobs::ReplyJob;
use runtime::effects::{Committed, Decision};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use crate::store::{Known, Turn};

/// Where a fired nudge stands.
#[derive(Debug, sqlx::FromRow)]
pub struct Fired {
    /// This nudge is written already (a redelivery).
    pub written: bool,
    /// The user allows the persona to write first.
    pub allowed: bool,
    /// Telegram refused a message to the user (they blocked the bot).
    pub unreachable: bool,
    /// The user wrote after the message the nudge follows.
    pub spoke: bool,
    /// An earlier nudge from this persona is still unanswered.
    pub unanswered: bool,
    /// Nudges the user got in the last 7 days.
    pub this_week: i64,
    /// A minor was brought into the dialog: it never gets a nudge.
    pub minor_cue: bool,
    /// The dialog is adult.
    pub adult: bool,
    /// The user's offset (`None`: inferred from `language_code`), quiet hours.
    pub tz_offset_min: Option<i32>,
    /// Quiet hours start.
    pub quiet_from: i16,
    /// Quiet hours end.
    pub quiet_to: i16,
    /// Telegram's language code.
    pub language_code: Option<String>,
    /// The language the user chose (`/lang`).
    pub lang: Option<String>,
    /// The user's first name.
    pub user_name: String,
    /// Her system prompt.
    pub system_prompt: String,
    /// The dialog's rolling summary.
    pub summary: String,
    /// The dialog's last turns, oldest first.
    pub turns: Json<Vec<Turn>>,
    /// What she remembers about the user (as the answer's statement reads it).
    pub facts: Json<Vec<Known>>,
}

/// The rules, as SQL over `d` (the dialog) with the user's id, the nudge's id and the message
/// it follows as the statement's parameters `$user`, `$id` and `$last`.
macro_rules! rules {
    (spoke, $user:literal, $last:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM dialogs ud JOIN chat_messages m ON m.dialog_id = ud.id
                     WHERE ud.user_id = ",
            $user,
            " AND m.role = 'user' AND m.id > ",
            $last,
            ")"
        )
    };
    // Her earlier nudge counts as answered by any message of the user's after it, in any of
    // their dialogs (a new dialog with her, another persona's).
    (unanswered, $user:literal, $id:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM nudges n
                     WHERE n.user_id = ",
            $user,
            " AND n.girl_id = d.girl_id AND n.id <> ",
            $id,
            "
                       AND n.message_id IS NOT NULL
                       AND NOT EXISTS (SELECT 1 FROM dialogs ad
                                       JOIN chat_messages a ON a.dialog_id = ad.id
                                       WHERE ad.user_id = ",
            $user,
            " AND a.role = 'user'
                                         AND a.id > n.message_id))"
        )
    };
    (this_week, $user:literal, $id:literal) => {
        concat!(
            "(SELECT count(*) FROM nudges n
              WHERE n.user_id = ",
            $user,
            " AND n.id <> ",
            $id,
            "
                AND n.created_at > now() - interval '7 days')"
        )
    };
}

/// Where nudge `id` (following `job.user_message_id`) stands; `None` when the dialog, the
/// persona or the user's choice of her is gone.
pub async fn fired(pool: &PgPool, id: Uuid, job: &ReplyJob) -> sqlx::Result<Option<Fired>> {
    sqlx::query_as(concat!(
        "SELECT EXISTS (SELECT 1 FROM chat_messages WHERE job_id = $1) AS written,
                s.nudges AS allowed, u.unreachable_at IS NOT NULL AS unreachable, ",
        rules!(spoke, "$2", "$4"),
        " AS spoke, ",
        rules!(unanswered, "$2", "$1"),
        " AS unanswered, ",
        rules!(this_week, "$2", "$1"),
        " AS this_week,
                d.minor_cue_at IS NOT NULL AS minor_cue, d.nsfw_enabled AS adult,
                u.tz_offset_min, u.quiet_from, u.quiet_to, u.language_code, u.lang,
                u.first_name AS user_name, g.system_prompt,
                d.summary,
                COALESCE((SELECT json_agg(json_build_array(t.role, t.content, t.id) ORDER BY t.id)
                          FROM (SELECT role, content, id FROM chat_messages
                                WHERE dialog_id = d.id AND withheld_at IS NULL
                                ORDER BY id DESC LIMIT 8) t), '[]'::json) AS turns,
                ",
        crate::store::known_facts_sql!(),
        "
         FROM dialogs d
         JOIN users u ON u.id = d.user_id
         JOIN girls g ON g.id = d.girl_id AND g.is_active
         JOIN user_selected_girls s ON s.user_id = d.user_id AND s.girl_id = d.girl_id
         WHERE d.id = $3 AND d.user_id = $2",
    ))
    .bind(id)
    .bind(job.user_id)
    .bind(job.dialog_id)
    .bind(job.user_message_id)
    .fetch_optional(pool)
    .await
}

/// Stores nudge `id`'s text as an assistant message of the dialog (its effect `effect`), its
/// `nudges` row (the weekly count, "unanswered", the admin panel) and the decision that sends
/// it, in one statement that checks every rule again; `None` when a rule stops it now or it
/// was stored before.
pub async fn store(
    pool: &PgPool,
    id: Uuid,
    job: &ReplyJob,
    (text, effect, per_week): (&str, Uuid, i64),
    d: Decision,
) -> sqlx::Result<Option<Committed>> {
    const GATE: &str = concat!(
        "INSERT INTO chat_messages (dialog_id, role, content, job_id, effect_id)
         SELECT d.id, 'assistant', $13, $14, $15
         FROM dialogs d
         JOIN users u ON u.id = d.user_id
         JOIN girls g ON g.id = d.girl_id AND g.is_active
         JOIN user_selected_girls s ON s.user_id = d.user_id AND s.girl_id = d.girl_id
         WHERE d.id = $12 AND d.user_id = $16 AND s.nudges AND u.unreachable_at IS NULL
           AND d.minor_cue_at IS NULL AND NOT ",
        rules!(spoke, "$16", "$17"),
        " AND NOT ",
        rules!(unanswered, "$16", "$14"),
        " AND ",
        rules!(this_week, "$16", "$14"),
        " < $18
         ON CONFLICT (job_id) DO NOTHING
         RETURNING id, dialog_id"
    );
    const ALSO: &str = "INSERT INTO nudges (id, user_id, girl_id, dialog_id, message_id)
         SELECT $14, $16, d.girl_id, gate.dialog_id, gate.id
         FROM gate JOIN dialogs d ON d.id = gate.dialog_id
         ON CONFLICT (id) DO NOTHING";
    let stored = d
        .commit_gated_also::<(i64, i64)>(pool, (GATE, Some(ALSO)), |q| {
            q.bind(job.dialog_id)
                .bind(text.to_owned())
                .bind(id)
                .bind(effect)
                .bind(job.user_id)
                .bind(job.user_message_id)
                .bind(per_week)
        })
        .await?;
    Ok(stored.map(|(_, committed)| committed))
}
