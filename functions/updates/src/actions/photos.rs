//! 📸 and `/photo [wish]`: checks the wish with the minor-safety scan, reserves a photo slot
//! within the per-user and per-dialog limits (`companion::photos::reserve`: under the user's
//! row lock, so concurrent presses never pass a limit; a photo already rendering for the
//! dialog is not started twice), and queues the prompt job, answering at once with who is
//! taking the photo and how many are left. fn-image marks the slot used, a failure gives it
//! back.

use companion::content::safety;
use companion::jobs::PromptJob;
use companion::locale::{T, t, tf};
use companion::photos;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::PROMPT_SUBJECT;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::store::dialogs;

/// Left counts are shown only when they get this low (a "9998 left" says nothing).
const SHOW_LEFT_BELOW: i64 = 50;

/// 📸 pressed under dialog `dialog` (in message `shown`), or `/photo` with an optional wish.
pub async fn photo(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog: Option<i64>,
    callback: Option<String>,
    shown: Option<i64>,
    wish: Option<String>,
) -> Result<(), HandlerError> {
    let (chat, user, lang) = (ctx.sender.chat_id, ctx.sender.user_id, ctx.lang);
    let callback = callback.as_deref();
    let dialog_id = match dialog {
        Some(id) if dialogs::owns_dialog(c, user, id).await? => Some(id),
        Some(_) => None,
        None => dialogs::active_dialog(c, user).await?,
    };
    let Some(dialog_id) = dialog_id else {
        ctx.tell(d, callback, t(lang, T::PickFirst));
        return Ok(());
    };
    // A wish shapes a picture: read with the picture rules (a child in it blocks, owned or
    // remembered), and it marks the dialog like a chat message would.
    if let Some(hit) = wish.as_deref().and_then(safety::check_picture) {
        if safety::check(wish.as_deref().unwrap_or_default()).is_some() {
            dialogs::mark(c, dialog_id).await?;
        }
        tracing::warn!(
            update = ctx.update_id,
            rule = hit.rule.as_str(),
            "photo request refused by the minor-safety scan"
        );
        tracing::debug!(term = %hit.term, "what the scan matched");
        ctx.tell(d, callback, t(lang, T::PhotoBlocked));
        return Ok(());
    }
    let job = Uuid::new_v4();
    let r = photos::reserve(c, user, dialog_id, job, ctx.photos).await?;
    let name: &dyn std::fmt::Display = &r.name;
    let refusal = if r.busy {
        Some(tf(lang, T::PhotoBusy, &[("name", name)]))
    } else if !r.reserved && r.by_user >= ctx.photos.per_user {
        Some(tf(
            lang,
            T::PhotoLimitUser,
            &[("max", &ctx.photos.per_user)],
        ))
    } else if !r.reserved {
        Some(tf(
            lang,
            T::PhotoLimitDialog,
            &[("max", &ctx.photos.per_dialog)],
        ))
    } else {
        None
    };
    if let Some(text) = refusal {
        ctx.tell(d, callback, &text);
        return Ok(());
    }
    let prompt = PromptJob {
        chat_id: chat,
        user_id: user,
        dialog_id,
        lang,
        reply_to: shown.or(r.reply_to),
        wish,
    };
    let env = Envelope {
        id: job,
        trace_id: ctx.trace_id(),
        payload: prompt,
    };
    d.job(PROMPT_SUBJECT, &env);
    let mut text = tf(lang, T::PhotoTaking, &[("name", name)]);
    let left = (ctx.photos.per_user - r.by_user).min(ctx.photos.per_dialog - r.by_dialog) - 1;
    if left < SHOW_LEFT_BELOW {
        text = format!("{text} {}", tf(lang, T::PhotoLeft, &[("left", &left)]));
    }
    ctx.tell(d, callback, &text);
    Ok(())
}
