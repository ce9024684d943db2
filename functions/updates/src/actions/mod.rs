//! What each [`Action`] does, inside the update's transaction: database writes, and in the
//! [`Decision`] the answers to the user and the jobs for other stages, all sent only after the
//! commit. [`apply`] first takes the user's budget and applies the 18+ gate, then hands the
//! action to its handler ([`dispatch`]: one line per action); the handlers live in this
//! module's children, by what the user is doing. Everything said comes from the locale files
//! (`companion::locale`).

mod admin;
mod answers;
mod erase;
mod export;
mod memory;
mod messages;
mod my_chats;
mod nudges;
mod photos;
mod screen;
mod settings;
mod start;
mod voice;

use companion::locale::texts;
use companion::locale::{T, t};
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::route::Action;
use crate::store::{budget, users};

/// Applies one action.
pub async fn apply(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    action: Action,
) -> Result<(), HandlerError> {
    // A cost of nothing was taken before (a voice note's, when it was reserved).
    let cost = action.cost();
    if cost > 0.0
        && let Some((wait, tell)) = budget::take(c, ctx.sender, ctx.rate, cost).await?
    {
        // Over the budget: one note, then silence until it refills.
        if tell {
            let text = texts::slow_down(ctx.lang, wait.as_secs().max(1));
            ctx.tell(d, action.callback(), &text);
        }
        return Ok(());
    }
    if action.needs_age() && !ctx.confirmed {
        // An edit: nothing of theirs is stored to edit; no reason to speak up.
        if !matches!(action, Action::Edited { .. }) {
            start::age_gate(ctx, d, action.callback());
        }
        return Ok(());
    }
    if ctx.renaming.is_some() && !matches!(action, Action::Text(_)) {
        // Anything but a text cancels a rename.
        users::renaming(c, ctx.sender.user_id, None).await?;
    }
    dispatch(c, ctx, d, action).await
}

/// Which handler each action goes to: one line each, a table (hence unformatted).
#[rustfmt::skip]
async fn dispatch(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    action: Action,
) -> Result<(), HandlerError> {
    match action {
        Action::Start => start::start(c, ctx, d).await?,
        Action::Help => ctx.say(d, T::Help),
        Action::DeclineAge { callback } => start::decline_age(ctx, d, &callback),
        Action::ConfirmAge { callback } => start::confirm_age(c, ctx, d, &callback).await?,
        Action::ChoosePersona { girl_id, callback } => start::choose_persona(c, ctx, d, girl_id, &callback).await?,
        Action::NewDialog => start::new_dialog(c, ctx, d).await?,
        Action::Personas => start::personas(c, ctx, d).await?,
        Action::Text(text) => messages::text(c, ctx, d, &text).await?,
        Action::Edited { telegram_id, text } => messages::edited(c, ctx, d, telegram_id, &text).await?,
        Action::Retry { message_id, callback } => answers::retry(c, ctx, d, message_id, &callback).await?,
        Action::Swipe { message_id, index, callback, shown } => answers::swipe(c, ctx, d, message_id, index, &callback, shown).await?,
        Action::Regenerate { message_id, callback, shown } => answers::regenerate(c, ctx, d, message_id, callback, shown).await?,
        Action::Stop { message_id, callback } => answers::stop(c, ctx, d, message_id, &callback).await?,
        Action::Photo { dialog_id, callback, shown, wish } => photos::photo(c, ctx, d, dialog_id, callback, shown, wish).await?,
        Action::Chats { page, callback, shown } => my_chats::chats(c, ctx, d, page, callback, shown).await?,
        Action::Open { dialog_id, callback } => my_chats::open(c, ctx, d, dialog_id, &callback).await?,
        Action::Rename { dialog_id, callback } => my_chats::rename(c, ctx, d, dialog_id, &callback).await?,
        Action::Delete { dialog_id, confirmed, callback, shown } => my_chats::delete(c, ctx, d, dialog_id, confirmed, &callback, shown).await?,
        Action::Lang { lang, callback } => settings::lang(c, ctx, d, lang, callback).await?,
        Action::Settings { change, callback, shown } => nudges::settings(c, ctx, d, change, callback, shown).await?,
        Action::Nudges { girl_id, on, settings, callback, shown } => nudges::nudges(c, ctx, d, girl_id, on, settings, &callback, shown).await?,
        Action::Export => export::export(c, ctx, d).await?,
        Action::EraseMe { choice, callback, shown } => erase::erase_me(c, ctx, d, choice, callback, shown).await?,
        Action::Admin { request, callback, shown } => admin::admin(ctx, d, request, callback, shown),
        Action::Memory { press, callback, shown } => memory::memory(c, ctx, d, press, callback, shown).await?,
        Action::UnknownCommand => ctx.say(d, T::UnknownCommand),
        Action::Unsupported => ctx.say(d, T::Unsupported),
        Action::StaleButton { callback } => ctx.tell(d, Some(&callback), t(ctx.lang, T::StaleButton)),
        Action::Voice(v) => voice::voice(c, ctx, d, v).await?,
    }
    Ok(())
}
