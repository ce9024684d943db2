//! Voice inside the update's transaction: a heard voice note's words (the seconds charged,
//! then screened and stored like a text, echoed "🎤 …" once they pass, and answered), a note
//! that was not heard (why, in words), 🔊 under an answer (a speak job for fn-reply), and
//! `/settings` with the "answer in voice" toggle (its row is part of the view in `nudges.rs`).

use companion::jobs::{ReplyJob, Speak};
use companion::locale::{T, t, texts};
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::REPLY_SUBJECT;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::route::voice::{Unheard, Voice};
use crate::store::{messages, voice as store};

/// Applies a voice action.
pub async fn voice(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    v: Voice,
) -> Result<(), HandlerError> {
    match v {
        Voice::Heard { text } => heard(c, ctx, d, &text).await,
        Voice::Unheard(why) => {
            unheard(ctx, d, why);
            Ok(())
        }
        // Reached only when hearing was skipped (the user confirmed 18+ meanwhile): they
        // send it again.
        Voice::Note(_) => {
            ctx.say(d, T::VoiceUnheard);
            Ok(())
        }
        Voice::Speak {
            message_id,
            index,
            callback,
        } => speak(c, ctx, d, message_id, index, &callback).await,
        Voice::Settings {
            on,
            callback,
            shown,
        } => {
            store::answers_in_voice(c, ctx.sender.user_id, on).await?;
            if let Some(id) = &callback {
                d.answer_callback(ctx.sender.chat_id, id, None);
            }
            super::nudges::show(c, ctx, d, shown).await
        }
    }
}

/// The words of a voice note (charged when it was reserved): the text's checks, echoed when
/// they pass (and the nudge schedule re-armed, as a text's).
async fn heard(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
) -> Result<(), HandlerError> {
    super::messages::take(c, ctx, d, text, true).await
}

fn unheard(ctx: &Ctx<'_>, d: &mut Decision, why: Unheard) {
    match why {
        Unheard::NotConfigured => ctx.say(d, T::VoiceNotConfigured),
        Unheard::TooBig => ctx.say(d, T::VoiceTooBig),
        Unheard::Empty | Unheard::Unreadable => ctx.say(d, T::VoiceUnheard),
        Unheard::Outage => ctx.say(d, T::VoiceTryAgain),
        Unheard::OverBudget(wait) => {
            let text = texts::slow_down(ctx.lang, wait.as_secs().max(1));
            d.text(ctx.sender.chat_id, &text, &[]);
        }
        Unheard::DailyLimit(limit) => {
            let text = texts::voice_daily_limit(ctx.lang, limit);
            d.text(ctx.sender.chat_id, &text, &[]);
        }
    }
}

/// 🔊: the answer's version spoken by fn-reply (a job), or why not as the button's toast.
async fn speak(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    message_id: i64,
    index: i16,
    callback: &str,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    if !ctx.speak {
        d.answer_callback(chat, callback, Some(t(ctx.lang, T::SpeakNotConfigured)));
        return Ok(());
    }
    let Some(a) = messages::answer_to(c, ctx.sender.user_id, Some(message_id)).await? else {
        d.answer_callback(chat, callback, Some(t(ctx.lang, T::StaleButton)));
        return Ok(());
    };
    d.answer_callback(chat, callback, None);
    let job = ReplyJob {
        chat_id: chat,
        user_id: ctx.sender.user_id,
        dialog_id: a.dialog_id,
        user_message_id: a.user_message_id,
        lang: ctx.lang,
        speak: Some(Speak {
            answer_id: Some(a.answer_id),
            index,
        }),
        ..Default::default()
    };
    d.job(REPLY_SUBJECT, &Envelope::new(ctx.trace_id(), job));
    Ok(())
}
