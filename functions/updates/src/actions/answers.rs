//! What the user does to the persona's answers: "Try again" after a failed one, ◀ / ▶ through
//! a message's versions, 🔄 and `/retry` (another version of the latest answer), ⏹ while one
//! streams.

use companion::jobs::Regenerate;
use companion::locale::{T, t};
use companion::ui::keyboards::Under;
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::store::messages::{self, Answer};

/// "Try again" under the notice of a failed answer: the message waits for an answer again.
pub async fn retry(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    message_id: i64,
    callback: &str,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    match messages::retry(c, ctx.sender.user_id, message_id).await? {
        Some(dialog_id) => {
            d.answer_callback(chat, callback, None);
            ctx.reply(d, dialog_id, message_id, None);
        }
        None => d.answer_callback(chat, callback, Some(t(ctx.lang, T::NothingToRetry))),
    }
    Ok(())
}

/// ◀ / ▶ under message `message_id` (shown in `shown`): its version `index`, edited in place
/// while it is still the dialog's last message.
pub async fn swipe(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    message_id: i64,
    index: i16,
    callback: &str,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let swiped = messages::swipe(c, ctx.sender.user_id, message_id, index).await?;
    match (swiped, shown) {
        (Some(s), Some(shown)) => {
            d.answer_callback(chat, callback, None);
            let under = Under {
                dialog_id: s.dialog_id,
                message_id: Some(message_id),
                index,
                variants: i16::try_from(s.variants).unwrap_or(i16::MAX),
                answers: s.reply_to,
                speak: ctx.speak,
            };
            d.edit_text(chat, shown, &s.content, &under.rows(ctx.lang));
        }
        _ => d.answer_callback(chat, callback, Some(t(ctx.lang, T::SwipeTooLate))),
    }
    Ok(())
}

/// Queues another version of answer `a`, shown in `shown` (or where it was sent, when
/// `in_place`; or, with neither, as a new message).
pub fn regenerate_job(
    ctx: &Ctx<'_>,
    d: &mut Decision,
    a: Answer,
    shown: Option<i64>,
    in_place: bool,
) {
    let again = Regenerate {
        answer_id: a.answer_id,
        shown,
        effect: a.effect_id.filter(|_| in_place),
    };
    ctx.reply(d, a.dialog_id, a.user_message_id, Some(again));
}

/// 🔄 under an answer, or `/retry`.
pub async fn regenerate(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    message_id: Option<i64>,
    callback: Option<String>,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let callback = callback.as_deref();
    match messages::answer_to(c, ctx.sender.user_id, message_id).await? {
        None => ctx.tell(d, callback, t(ctx.lang, T::NothingToRegenerate)),
        Some(a) if !a.latest => ctx.tell(d, callback, t(ctx.lang, T::RegenerateOnlyLatest)),
        Some(a) => {
            if let Some(id) = callback {
                d.answer_callback(ctx.sender.chat_id, id, None);
            }
            regenerate_job(ctx, d, a, shown, true);
        }
    }
    Ok(())
}

/// ⏹ under a streaming answer.
pub async fn stop(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    message_id: i64,
    callback: &str,
) -> Result<(), HandlerError> {
    let text = match messages::stop(c, ctx.sender.user_id, message_id).await? {
        true => T::Stopped,
        false => T::AlreadyFinished,
    };
    d.answer_callback(ctx.sender.chat_id, callback, Some(t(ctx.lang, text)));
    Ok(())
}
