//! The statements behind `/settings` and the nudge question: the user's clock (offset and
//! quiet hours), which personas may write first, and turning that on or off.

use companion::nudges::Clock;
use sqlx::PgConnection;

/// What `/settings` shows: the clock (the offset `None` when never set) and Telegram's
/// language code (the offset is guessed from it).
#[derive(Debug, sqlx::FromRow)]
pub struct ClockRow {
    /// Minutes east of UTC, when the user set it.
    pub tz_offset_min: Option<i32>,
    /// Quiet hours start.
    pub quiet_from: i16,
    /// Quiet hours end.
    pub quiet_to: i16,
    /// Telegram's language code.
    pub language_code: Option<String>,
}

impl ClockRow {
    /// The clock in effect (the guessed offset when none was set).
    pub fn clock(&self) -> Clock {
        Clock {
            offset_min: self
                .tz_offset_min
                .unwrap_or_else(|| Clock::inferred_offset(self.language_code.as_deref())),
            quiet_from: self.quiet_from as u8,
            quiet_to: self.quiet_to as u8,
        }
    }
}

/// The user's clock.
pub async fn clock(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Option<ClockRow>> {
    sqlx::query_as(
        "SELECT tz_offset_min, quiet_from, quiet_to, language_code FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await
}

/// Sets the user's offset (minutes east of UTC).
pub async fn set_zone(c: &mut PgConnection, user_id: i64, minutes: i32) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET tz_offset_min = $2 WHERE id = $1")
        .bind(user_id)
        .bind(minutes)
        .execute(c)
        .await?;
    Ok(())
}

/// Sets the user's quiet hours.
pub async fn set_quiet(c: &mut PgConnection, user_id: i64, from: u8, to: u8) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET quiet_from = $2, quiet_to = $3 WHERE id = $1")
        .bind(user_id)
        .bind(i16::from(from))
        .bind(i16::from(to))
        .execute(c)
        .await?;
    Ok(())
}

/// The personas the user talks to (most recent first, a few), with whether each may write first.
pub async fn personas(
    c: &mut PgConnection,
    user_id: i64,
) -> sqlx::Result<Vec<(i32, String, bool)>> {
    sqlx::query_as(
        "SELECT g.id, g.name, s.nudges FROM user_selected_girls s
         JOIN girls g ON g.id = s.girl_id AND g.is_active
         WHERE s.user_id = $1 AND s.active_dialog_id IS NOT NULL
         ORDER BY s.updated_at DESC LIMIT 6",
    )
    .bind(user_id)
    .fetch_all(c)
    .await
}

/// What turning nudges on or off found: the persona's name and, when the user's latest message
/// (in any dialog) is in her open dialog, that dialog and the message (a nudge follows it; the
/// schedule of a later conversation with another persona is not replaced by an older one).
pub struct Switched {
    /// The persona's name.
    pub name: String,
    /// `(dialog, last user message)`.
    pub last: Option<(i64, i64)>,
}

/// Turns nudges from persona `girl_id` on or off for the user (and marks the question asked);
/// `None` when they never talked to her.
pub async fn switch(
    c: &mut PgConnection,
    user_id: i64,
    girl_id: i32,
    on: bool,
) -> sqlx::Result<Option<Switched>> {
    let row: Option<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "WITH s AS (
             UPDATE user_selected_girls
             SET nudges = $3, nudge_offered_at = COALESCE(nudge_offered_at, now()),
                 nudges_on_at = CASE WHEN $3 THEN COALESCE(nudges_on_at, now()) ELSE nudges_on_at END,
                 nudges_off_at = CASE WHEN NOT $3 AND nudges THEN now() ELSE nudges_off_at END
             WHERE user_id = $1 AND girl_id = $2 RETURNING girl_id, active_dialog_id)
         SELECT g.name, s.active_dialog_id,
                (SELECT l.id FROM (SELECT m.id, m.dialog_id FROM dialogs ud
                                   JOIN chat_messages m ON m.dialog_id = ud.id
                                   WHERE ud.user_id = $1 AND m.role = 'user'
                                   ORDER BY m.id DESC LIMIT 1) l
                 WHERE l.dialog_id = s.active_dialog_id)
         FROM s JOIN girls g ON g.id = s.girl_id",
    )
    .bind(user_id)
    .bind(girl_id)
    .bind(on)
    .fetch_optional(c)
    .await?;
    Ok(row.map(|(name, dialog, message)| Switched {
        name,
        last: dialog.zip(message),
    }))
}
