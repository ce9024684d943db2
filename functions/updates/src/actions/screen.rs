//! One gate for every text the model will see, read before anything is stored or asked: a new
//! message and an edited one pass the same minor-safety checks in the dialog they belong to.
//! A message is refused when it brings a minor into the dialog (`safety::chat_refusal`) or
//! is sexual in a dialog a minor was brought into before (`dialogs.minor_cue_at`, kept until
//! the user starts a new dialog). A refusal marks the dialog, so the sexual half of a request
//! split over messages finds the mark; a family word alone in a harmless message ("the kids
//! next door are loud") is let through and marks nothing. The persona declines in her voice; the text is
//! neither stored nor sent to the model; logs name the rule, never the text.

use companion::content::nsfw;
use companion::content::safety;
use companion::locale::{T, tf};
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::store::dialogs;

/// Screens `text` for dialog `dialog_id` (the user's active dialog when `None`): `true` when
/// it is refused (the refusal is in `d`), `false` when it may be stored and answered.
pub async fn refused(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog_id: Option<i64>,
    text: &str,
) -> Result<bool, HandlerError> {
    let hit = safety::check(text);
    let sexual = nsfw::is_adult(text);
    if hit.is_none() && !sexual {
        return Ok(false);
    }
    let Some(dl) = dialogs::screened(c, ctx.sender.user_id, dialog_id).await? else {
        // No dialog: nothing is stored or asked (the caller says so).
        return Ok(false);
    };
    let refusal = hit
        .as_ref()
        .filter(|_| safety::chat_refusal(text, dl.adult).is_some());
    let rule = match (refusal, dl.cue && sexual) {
        (Some(h), _) => h.rule.as_str(),
        (None, true) => "sexual after a minor cue",
        (None, false) => return Ok(false),
    };
    dialogs::mark(c, dl.id).await?;
    tracing::warn!(
        update = ctx.update_id,
        rule,
        "message refused by the minor-safety scan"
    );
    if let Some(h) = &hit {
        tracing::debug!(term = %h.term, "what the scan matched");
    }
    let name: &dyn std::fmt::Display = &dl.name;
    d.text(
        ctx.sender.chat_id,
        &tf(ctx.lang, T::ChatRefused, &[("name", name)]),
        &[],
    );
    Ok(true)
}
