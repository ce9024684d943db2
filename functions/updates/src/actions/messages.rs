//! The user's own words: a new text (the title of a dialog being renamed, or a chat message,
//! stored and queued for an answer) and an edited one; both screened first (`screen`). The
//! common text takes the hot path (`store::turn`) and comes here only when it cannot.

use companion::locale::T;
use companion::locale::texts;
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;

use super::{answers, my_chats, screen};
use crate::ctx::Ctx;
use crate::store::messages;

/// A text: the new title of the dialog being renamed, or a message for the persona.
pub async fn text(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
) -> Result<(), HandlerError> {
    if let Some(dialog_id) = ctx.renaming {
        return my_chats::renamed(c, ctx, d, dialog_id, text).await;
    }
    take(c, ctx, d, text, false).await
}

/// A message for the persona, typed or heard (`echo`: said back "🎤 …" as a reply to the voice
/// note once it passes): too long → a note; refused → the screen's answer (never said back);
/// else stored, answered, and the nudge schedule re-armed.
pub(super) async fn take(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
    echo: bool,
) -> Result<(), HandlerError> {
    if text.chars().count() > ctx.max_chars {
        let too_long = texts::too_long(ctx.lang, ctx.max_chars);
        d.text(ctx.sender.chat_id, &too_long, &[]);
        return Ok(());
    }
    if screen::refused(c, ctx, d, None, text).await? {
        return Ok(());
    }
    match messages::store_text(c, ctx.sender, ctx.update_id, text).await? {
        Some((dialog_id, user_message_id)) => {
            if echo {
                d.text(ctx.sender.chat_id, &texts::heard(ctx.lang, text), &[]);
                d.replying_to(ctx.sender.message_id);
            }
            ctx.reply(d, dialog_id, user_message_id, None);
            super::nudges::rearm(ctx, d, dialog_id, user_message_id);
        }
        None => ctx.say(d, T::PickFirst),
    }
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
        let too_long = texts::too_long(ctx.lang, ctx.max_chars);
        d.text(ctx.sender.chat_id, &too_long, &[]);
        return Ok(());
    }
    let user = ctx.sender.user_id;
    let dialog = messages::dialog_of_message(c, user, telegram_id).await?;
    if screen::refused(c, ctx, d, dialog, text).await? || dialog.is_none() {
        return Ok(());
    }
    if let Some((message_id, true)) = messages::edit(c, user, telegram_id, text).await?
        && let Some(a) = messages::answer_to(c, user, Some(message_id)).await?
        && a.latest
    {
        answers::regenerate_job(ctx, d, a, None, false);
    }
    Ok(())
}
