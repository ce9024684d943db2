//! An update's claim (`processed_updates`: a redelivery, even a day later, has no second
//! effect) and its user's row, as the update's work opens; and the claim of a stuck update
//! given up on (`crate::order`).

use companion::locale::Lang;
use sqlx::PgConnection;

use super::with_sender;
use crate::route::Sender;

/// Opens an update's work, in one statement: serialises the chat's updates across all copies
/// (advisory lock until commit), then claims the update (`false`: a redelivery), creates or
/// refreshes the user (a user who writes can be reached again) and, once per update, counts
/// them active (`track_activity`; `tracked` is selected so that it runs); and reads whether
/// their current persona may write first (a message to her re-arms the nudge schedule).
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
                   lang AS chosen_lang, language_code, renaming_dialog_id, current_girl_id),
         r AS (SELECT track_activity($3, 0, 0, 0) AS tracked FROM u, c)
         SELECT EXISTS (SELECT 1 FROM c) AS claimed, u.confirmed, u.chosen_lang, u.language_code,
                u.renaming_dialog_id, (SELECT count(*) FROM r) AS tracked,
                COALESCE((SELECT s.nudges FROM user_selected_girls s
                          WHERE s.user_id = $3 AND s.girl_id = u.current_girl_id), false)
                    AS nudges
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
    /// The language code the user chose with `/lang`, if any.
    pub chosen_lang: Option<String>,
    /// Telegram's `language_code` for them (this update's, else the last one known).
    pub language_code: Option<String>,
    /// The dialog whose new title the user's next text is.
    pub renaming_dialog_id: Option<i64>,
    /// Their current persona may write first.
    pub nudges: bool,
}

impl Begun {
    /// The language the bot speaks to the user (`Lang::for_user`).
    pub fn lang(&self) -> Lang {
        Lang::for_user(self.chosen_lang.as_deref(), self.language_code.as_deref())
    }
}

/// Claims update `update_id` for a give-up (so a copy that still holds it does nothing with
/// it); `false` when it was claimed before.
pub async fn claim(c: &mut PgConnection, update_id: i64) -> sqlx::Result<bool> {
    let r =
        sqlx::query("INSERT INTO processed_updates (update_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(update_id)
            .execute(c)
            .await?;
    Ok(r.rows_affected() == 1)
}
