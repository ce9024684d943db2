//! The actions on answers and settings, inside the update's transaction: 🔄 and `/retry`
//! (another version of the latest answer), ⏹, edited messages (screened like new ones) and
//! `/lang`.

use companion::jobs::{Regenerate, ReplyJob};
use companion::locale::texts;
use companion::locale::{Lang, T, t};
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::REPLY_SUBJECT;
use sqlx::PgConnection;

use crate::actions::Ctx;
use crate::chats::{self, Answer};
use crate::screen;

/// Says `text`: as the pressed button's toast, or as a message for a command.
pub fn tell(ctx: &Ctx<'_>, d: &mut Decision, callback: Option<&str>, text: &str) {
    match callback {
        Some(id) => d.answer_callback(ctx.sender.chat_id, id, Some(text)),
        None => {
            d.text(ctx.sender.chat_id, text, &[]);
        }
    }
}

/// Queues another version of answer `a`, shown in `shown` (or where it was sent; or, with
/// neither, as a new message).
fn regenerate_job(ctx: &Ctx<'_>, d: &mut Decision, a: Answer, shown: Option<i64>, in_place: bool) {
    let job = ReplyJob {
        chat_id: ctx.sender.chat_id,
        user_id: ctx.sender.user_id,
        dialog_id: a.dialog_id,
        user_message_id: a.user_message_id,
        lang: ctx.lang,
        regenerate: Some(Regenerate {
            answer_id: a.answer_id,
            shown,
            effect: a.effect_id.filter(|_| in_place),
        }),
        summarize: false,
    };
    d.job(REPLY_SUBJECT, &Envelope::new(ctx.trace_id(), job));
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
    match chats::answer_to(c, ctx.sender.user_id, message_id).await? {
        None => tell(
            ctx,
            d,
            callback.as_deref(),
            t(ctx.lang, T::NothingToRegenerate),
        ),
        Some(a) if !a.latest => {
            tell(
                ctx,
                d,
                callback.as_deref(),
                t(ctx.lang, T::RegenerateOnlyLatest),
            );
        }
        Some(a) => {
            if let Some(id) = &callback {
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
    let text = match chats::stop(c, ctx.sender.user_id, message_id).await? {
        true => T::Stopped,
        false => T::AlreadyFinished,
    };
    d.answer_callback(ctx.sender.chat_id, callback, Some(t(ctx.lang, text)));
    Ok(())
}

/// An edited text: screened like a new message in the dialog it belongs to (a refused edit is
/// not stored: the message keeps its old text), then stored; when it is the dialog's latest
/// message and answered, it gets a new answer (a new version of the old one, sent as a new
/// message). An edit of a message that was never stored (refused) is screened and otherwise
/// ignored.
pub async fn edited(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    telegram_id: i64,
    text: &str,
) -> Result<(), HandlerError> {
    if text.chars().count() > ctx.max_chars {
        d.text(
            ctx.sender.chat_id,
            &texts::too_long(ctx.lang, ctx.max_chars),
            &[],
        );
        return Ok(());
    }
    let user = ctx.sender.user_id;
    let dialog = chats::dialog_of_message(c, user, telegram_id).await?;
    if screen::refused(c, ctx, d, dialog, text).await? || dialog.is_none() {
        return Ok(());
    }
    if let Some((message_id, true)) = chats::edit(c, user, telegram_id, text).await?
        && let Some(a) = chats::answer_to(c, user, Some(message_id)).await?
        && a.latest
    {
        regenerate_job(ctx, d, a, None, false);
    }
    Ok(())
}

/// `/lang` offers the languages; a language button sets it.
pub async fn lang(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    lang: Option<Lang>,
    callback: Option<String>,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let Some(lang) = lang else {
        let row = Lang::ALL
            .iter()
            .map(|l| (l.name().to_owned(), Button::Lang(*l).encode()))
            .collect();
        d.text(chat, t(ctx.lang, T::LangChoose), &[row]);
        return Ok(());
    };
    chats::set_lang(c, ctx.sender.user_id, lang.code()).await?;
    if let Some(id) = &callback {
        d.answer_callback(chat, id, None);
    }
    d.text(chat, t(lang, T::LangSet), &[]);
    Ok(())
}
