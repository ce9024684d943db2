//! `/settings` — the user's time zone, quiet hours and which personas may write first — and
//! the answer to the nudge question. The view is a list of [`Row`]s (a line and its buttons),
//! so a new setting is one more row. Turning nudges on schedules the first one after the
//! user's last message in her open dialog (the hot path re-schedules it on every message).

use chrono::Utc;
use companion::jobs::ReplyJob;
use companion::locale::{Lang, T, t, tf};
use companion::nudges::{self, Clock, OFFSETS, QUIET_CHOICES};
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::{REPLY_SUBJECT, schedule_subject};
use runtime::telegram::ButtonRow;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::route::Setting;
use crate::store::nudges as store;

/// One row of the settings view: its line and the buttons that change it.
pub struct Row {
    /// What the setting is now.
    pub line: String,
    /// Its buttons (rows of the keyboard).
    pub buttons: Vec<ButtonRow>,
}

/// `/settings`, or a change made with one of its buttons (then shown again in place).
pub async fn settings(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    change: Option<Setting>,
    callback: Option<String>,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let user = ctx.sender.user_id;
    match change {
        Some(Setting::Zone(m)) => store::set_zone(c, user, i32::from(m)).await?,
        Some(Setting::Quiet(from, to)) => store::set_quiet(c, user, from, to).await?,
        None => {}
    }
    if let Some(id) = &callback {
        d.answer_callback(ctx.sender.chat_id, id, None);
    }
    show(c, ctx, d, shown).await
}

/// Shows the settings view (in message `shown` when a button under it was pressed).
pub(super) async fn show(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let user = ctx.sender.user_id;
    let Some(clock) = store::clock(c, user).await? else {
        return Ok(());
    };
    let personas = store::personas(c, user).await?;
    let mut rows = vec![
        zone_row(ctx.lang, &clock),
        quiet_row(ctx.lang, &clock.clock()),
    ];
    rows.extend(nudge_rows(ctx.lang, &personas));
    let in_voice = crate::store::voice::answers_in_voice(c, user, None).await?;
    rows.push(voice_row(ctx.lang, ctx.speak, in_voice));
    let mut text = t(ctx.lang, T::SettingsTitle).to_owned();
    let mut keyboard = Vec::new();
    for row in rows {
        text.push_str("\n\n");
        text.push_str(&row.line);
        keyboard.extend(row.buttons);
    }
    d.text_in(ctx.sender.chat_id, shown, &text, &keyboard);
    Ok(())
}

fn zone_row(lang: Lang, row: &store::ClockRow) -> Row {
    let offset = row.clock().offset_min;
    let zone = Clock::zone_name(offset);
    let key = match row.tz_offset_min {
        Some(_) => T::SettingsZone,
        None => T::SettingsZoneGuessed,
    };
    let mut buttons = Vec::new();
    for (label, to) in [(T::ZoneEarlier, offset - 60), (T::ZoneLater, offset + 60)] {
        if OFFSETS.contains(&to) {
            buttons.push((t(lang, label).to_owned(), Button::Zone(to as i16).encode()));
        }
    }
    Row {
        line: tf(lang, key, &[("zone", &zone)]),
        buttons: vec![buttons],
    }
}

fn quiet_row(lang: Lang, clock: &Clock) -> Row {
    let none = t(lang, T::SettingsQuietNone).to_owned();
    let quiet = clock.quiet_name().unwrap_or(none);
    let buttons = QUIET_CHOICES
        .iter()
        .filter(|(f, to)| (*f, *to) != (clock.quiet_from, clock.quiet_to))
        .map(|&(from, to)| {
            let label = match from == to {
                true => t(lang, T::QuietNoneButton).to_owned(),
                false => format!("🌙 {from:02}–{to:02}"),
            };
            (label, Button::Quiet(from, to).encode())
        })
        .collect();
    Row {
        line: tf(lang, T::SettingsQuiet, &[("quiet", &quiet)]),
        buttons: vec![buttons],
    }
}

fn nudge_rows(lang: Lang, personas: &[(i32, String, bool)]) -> Vec<Row> {
    if personas.is_empty() {
        let line = t(lang, T::SettingsNoPersonas).to_owned();
        return vec![Row {
            line,
            buttons: Vec::new(),
        }];
    }
    let state = |on: bool| t(lang, if on { T::SettingOn } else { T::SettingOff });
    personas
        .iter()
        .map(|(girl, name, on)| {
            let line = tf(
                lang,
                T::SettingsNudges,
                &[("name", name), ("state", &state(*on))],
            );
            let label = tf(
                lang,
                T::NudgeToggle,
                &[("name", name), ("state", &state(!on))],
            );
            let press = Button::Nudges {
                girl: *girl,
                on: !on,
                settings: true,
            };
            Row {
                line,
                buttons: vec![vec![(label, press.encode())]],
            }
        })
        .collect()
}

/// Nudges from persona `girl_id` on or off: from the question (its message then says what was
/// chosen) or from `/settings` (shown again).
#[allow(clippy::too_many_arguments)]
pub async fn nudges(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    girl_id: i32,
    on: bool,
    settings: bool,
    callback: &str,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let Some(switched) = store::switch(c, ctx.sender.user_id, girl_id, on).await? else {
        ctx.tell(d, Some(callback), t(ctx.lang, T::StaleButton));
        return Ok(());
    };
    if on && let Some((dialog_id, last)) = switched.last {
        schedule(ctx, d, dialog_id, last);
    }
    d.answer_callback(chat, callback, None);
    if settings {
        return show(c, ctx, d, shown).await;
    }
    let key = if on { T::NudgesOnNow } else { T::NudgesOffNow };
    let text = tf(ctx.lang, key, &[("name", &switched.name)]);
    d.text_in(chat, shown, &text, &[]);
    Ok(())
}

/// Re-arms the nudge schedule after user message `last` of dialog `dialog_id` (a text or voice
/// note that did not take the hot path), when the current persona may write first.
pub fn rearm(ctx: &Ctx<'_>, d: &mut Decision, dialog_id: i64, last: i64) {
    if ctx.nudges_on {
        schedule(ctx, d, dialog_id, last);
    }
}

/// Schedules the nudge that follows user message `last` of dialog `dialog_id` after the
/// silence (replacing the user's pending one).
fn schedule(ctx: &Ctx<'_>, d: &mut Decision, dialog_id: i64, last: i64) {
    let user = ctx.sender.user_id;
    let job = ReplyJob {
        chat_id: ctx.sender.chat_id,
        user_id: user,
        dialog_id,
        user_message_id: last,
        lang: ctx.lang,
        nudge: true,
        ..Default::default()
    };
    let env = Envelope {
        id: nudges::nudge_id(user, last),
        trace_id: ctx.trace_id(),
        payload: job,
    };
    let row = nudges::schedule_id(uuid::Uuid::from_u64_pair(ctx.update_id as u64, user as u64));
    let at = Utc::now() + ctx.nudges.silence;
    let subject = schedule_subject(&nudges::schedule_key(user));
    d.schedule(row, &subject, (at, REPLY_SUBJECT), &env);
}

/// The "answer in voice" row: its state and toggle (no toggle when speech is not configured).
fn voice_row(lang: Lang, speak: bool, on: bool) -> Row {
    if !speak {
        return Row {
            line: t(lang, T::VoiceAnswersUnavailable).to_owned(),
            buttons: Vec::new(),
        };
    }
    let (line, label, button) = match on {
        true => (T::VoiceAnswersOn, T::VoiceAnswersTurnOff, false),
        false => (T::VoiceAnswersOff, T::VoiceAnswersTurnOn, true),
    };
    let toggle = (
        t(lang, label).to_owned(),
        Button::VoiceAnswers(button).encode(),
    );
    Row {
        line: t(lang, line).to_owned(),
        buttons: vec![vec![toggle]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voice_toggle_offers_the_other_state_and_nothing_without_speech() {
        let row = voice_row(Lang::En, true, false);
        assert!(row.line.contains("off"), "{}", row.line);
        assert_eq!(row.buttons[0][0].1, "va:on");
        assert_eq!(voice_row(Lang::Ru, true, true).buttons[0][0].1, "va:off");
        let row = voice_row(Lang::En, false, true);
        assert!(row.buttons.is_empty() && !row.line.is_empty());
    }
}
