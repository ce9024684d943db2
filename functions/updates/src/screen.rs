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

use crate::actions::Ctx;

/// The dialog a text is screened in.
#[derive(Debug, sqlx::FromRow)]
struct Dialog {
    id: i64,
    adult: bool,
    cue: bool,
    name: String,
}

/// Dialog `dialog` of `user`, or their active one.
async fn dialog(
    c: &mut PgConnection,
    user: i64,
    dialog: Option<i64>,
) -> sqlx::Result<Option<Dialog>> {
    sqlx::query_as(
        "SELECT d.id, d.nsfw_enabled AS adult, d.minor_cue_at IS NOT NULL AS cue, g.name
         FROM dialogs d JOIN girls g ON g.id = d.girl_id
         WHERE d.user_id = $1 AND d.id = COALESCE($2, (
             SELECT s.active_dialog_id FROM users u
             JOIN user_selected_girls s ON s.user_id = u.id AND s.girl_id = u.current_girl_id
             WHERE u.id = $1))",
    )
    .bind(user)
    .bind(dialog)
    .fetch_optional(c)
    .await
}

/// Marks dialog `id`: a minor was brought into it.
pub async fn mark(c: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE dialogs SET minor_cue_at = COALESCE(minor_cue_at, now()) WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

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
    let Some(dl) = dialog(c, ctx.sender.user_id, dialog_id).await? else {
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
    mark(c, dl.id).await?;
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
