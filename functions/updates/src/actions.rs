//! What each [`Action`] does, inside the update's transaction: database writes, and in the
//! [`Decision`] the answers to the user and the jobs for other stages, all sent only after the
//! commit. Everything said comes from the locale files (`companion::locale`).

use companion::jobs::ReplyJob;
use companion::locale::texts;
use companion::locale::{Lang, T, t};
use companion::ui::admin::{AdminIds, AdminJob};
use companion::ui::keyboards::Under;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::{ADMIN_SUBJECT, REPLY_SUBJECT};
use sqlx::PgConnection;

use crate::route::{Action, Sender};
use crate::{dialogs, erase, export, listing, manage, menu, photos, screen, store};

/// What an action needs besides the transaction.
pub struct Ctx<'a> {
    /// The update being handled.
    pub update_id: i64,
    /// Who sent it.
    pub sender: &'a Sender,
    /// Whether the sender confirmed 18+.
    pub confirmed: bool,
    /// Longest accepted message.
    pub max_chars: usize,
    /// How fast the user may write.
    pub rate: store::Rate,
    /// The language the bot speaks to them.
    pub lang: Lang,
    /// The dialog whose new title their next text is.
    pub renaming: Option<i64>,
    /// Photo limits.
    pub photos: companion::photos::Limits,
    /// Who may open the admin panel.
    pub admins: &'a AdminIds,
}

/// Applies one action.
pub async fn apply(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    action: Action,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    if let Some((wait, tell)) = store::budget_take(c, ctx.sender, ctx.rate, action.cost()).await? {
        // Over the budget: one note, then silence until it refills.
        if tell {
            let text = texts::slow_down(ctx.lang, wait.as_secs().max(1));
            manage::tell(ctx, d, action.callback(), &text);
        }
        return Ok(());
    }
    if action.needs_age() && !ctx.confirmed {
        if matches!(action, Action::Edited { .. }) {
            // Nothing of theirs is stored to edit; no reason to speak up.
            return Ok(());
        }
        if let Some(id) = action.callback() {
            d.answer_callback(chat, id, None);
        }
        d.text(chat, t(ctx.lang, T::AgeGate), &menu::age_button(ctx.lang));
        return Ok(());
    }
    if ctx.renaming.is_some() && !matches!(action, Action::Text(_)) {
        // Anything but a text cancels a rename.
        crate::chats::renaming(c, ctx.sender.user_id, None).await?;
    }
    match action {
        Action::Start if ctx.confirmed => {
            let text = format!(
                "{}\n\n{}",
                t(ctx.lang, T::Welcome),
                t(ctx.lang, T::ChoosePersona)
            );
            menu::persona_menu(c, ctx, d, &text).await?;
        }
        Action::Start => {
            let text = format!("{}\n\n{}", t(ctx.lang, T::Welcome), t(ctx.lang, T::AgeGate));
            d.text(chat, &text, &menu::age_button(ctx.lang));
        }
        Action::Help => {
            d.text(chat, t(ctx.lang, T::Help), &[]);
        }
        Action::DeclineAge { callback } => {
            d.answer_callback(chat, &callback, None);
            d.text(chat, t(ctx.lang, T::AgeDeclined), &[]);
        }
        Action::ConfirmAge { callback } => {
            store::confirm_age(c, ctx.sender.user_id).await?;
            d.answer_callback(chat, &callback, None);
            menu::persona_menu(c, ctx, d, t(ctx.lang, T::AgeConfirmed)).await?;
        }
        Action::ChoosePersona { girl_id, callback } => {
            d.answer_callback(chat, &callback, None);
            match dialogs::resume(c, ctx.sender.user_id, girl_id).await? {
                Some(r) => {
                    listing::resumed(ctx, d, &r);
                }
                None => menu::new_dialog(c, ctx, d, girl_id).await?,
            }
        }
        Action::NewDialog => match dialogs::current_persona(c, ctx.sender.user_id).await? {
            Some(girl_id) => menu::new_dialog(c, ctx, d, girl_id).await?,
            None => menu::persona_menu(c, ctx, d, t(ctx.lang, T::ChoosePersona)).await?,
        },
        Action::Personas => menu::persona_menu(c, ctx, d, t(ctx.lang, T::ChoosePersona)).await?,
        Action::Retry {
            message_id,
            callback,
        } => match dialogs::retry(c, ctx.sender.user_id, message_id).await? {
            Some(dialog_id) => {
                d.answer_callback(chat, &callback, None);
                let job = ReplyJob {
                    chat_id: chat,
                    user_id: ctx.sender.user_id,
                    dialog_id,
                    user_message_id: message_id,
                    lang: ctx.lang,
                    regenerate: None,
                    summarize: false,
                };
                d.job(REPLY_SUBJECT, &Envelope::new(ctx.trace_id(), job));
            }
            None => d.answer_callback(chat, &callback, Some(t(ctx.lang, T::NothingToRetry))),
        },
        Action::Swipe {
            message_id,
            index,
            callback,
            shown,
        } => {
            let swiped = dialogs::swipe(c, ctx.sender.user_id, message_id, index).await?;
            match (swiped, shown) {
                (Some(s), Some(shown)) => {
                    d.answer_callback(chat, &callback, None);
                    let under = Under {
                        dialog_id: s.dialog_id,
                        message_id: Some(message_id),
                        index,
                        variants: i16::try_from(s.variants).unwrap_or(i16::MAX),
                        answers: s.reply_to,
                    };
                    d.edit_text(chat, shown, &s.content, &under.rows(ctx.lang));
                }
                _ => d.answer_callback(chat, &callback, Some(t(ctx.lang, T::SwipeTooLate))),
            }
        }
        Action::Text(text) => text_message(c, ctx, d, &text).await?,
        Action::Photo {
            dialog_id,
            callback,
            shown,
            wish,
        } => photos::photo(c, ctx, d, dialog_id, callback, shown, wish).await?,
        Action::Admin {
            request,
            callback,
            shown,
        } => {
            // Only in the admin's own private chat: an update claiming an admin's `from` in
            // another chat (a forged webhook call) shows the panel nowhere.
            if ctx.admins.contains(ctx.sender.user_id) && chat == ctx.sender.user_id {
                let job = AdminJob {
                    chat_id: chat,
                    user_id: ctx.sender.user_id,
                    lang: ctx.lang,
                    request,
                    shown,
                    callback,
                };
                d.job(ADMIN_SUBJECT, &Envelope::new(ctx.trace_id(), job));
            } else if let Some(callback) = callback {
                // A forwarded or replayed panel button: nothing happens.
                d.answer_callback(chat, &callback, None);
            } else {
                // Exactly what an unknown command gets: no hint that it exists.
                d.text(chat, t(ctx.lang, T::UnknownCommand), &[]);
            }
        }
        Action::Export => export::export(c, ctx, d).await?,
        Action::EraseMe {
            choice,
            callback,
            shown,
        } => erase::erase_me(c, ctx, d, choice, callback, shown).await?,
        Action::UnknownCommand => {
            d.text(chat, t(ctx.lang, T::UnknownCommand), &[]);
        }
        Action::Unsupported => {
            d.text(chat, t(ctx.lang, T::Unsupported), &[]);
        }
        Action::StaleButton { callback } => {
            d.answer_callback(chat, &callback, Some(t(ctx.lang, T::StaleButton)));
        }
        Action::Regenerate {
            message_id,
            callback,
            shown,
        } => manage::regenerate(c, ctx, d, message_id, callback, shown).await?,
        Action::Stop {
            message_id,
            callback,
        } => manage::stop(c, ctx, d, message_id, &callback).await?,
        Action::Chats {
            page,
            callback,
            shown,
        } => listing::chats(c, ctx, d, page, callback, shown).await?,
        Action::Open {
            dialog_id,
            callback,
        } => listing::open(c, ctx, d, dialog_id, &callback).await?,
        Action::Rename {
            dialog_id,
            callback,
        } => listing::rename(c, ctx, d, dialog_id, &callback).await?,
        Action::Delete {
            dialog_id,
            confirmed,
            callback,
            shown,
        } => listing::delete(c, ctx, d, dialog_id, confirmed, &callback, shown).await?,
        Action::Lang { lang, callback } => manage::lang(c, ctx, d, lang, callback).await?,
        Action::Edited { telegram_id, text } => {
            manage::edited(c, ctx, d, telegram_id, &text).await?;
        }
    }
    Ok(())
}

async fn text_message(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    if let Some(dialog_id) = ctx.renaming {
        return listing::renamed(c, ctx, d, dialog_id, text).await;
    }
    if text.chars().count() > ctx.max_chars {
        d.text(chat, &texts::too_long(ctx.lang, ctx.max_chars), &[]);
        return Ok(());
    }
    if screen::refused(c, ctx, d, None, text).await? {
        return Ok(());
    }
    let stored = store::store_text(c, ctx.sender, ctx.update_id, text).await?;
    let Some((dialog_id, user_message_id)) = stored else {
        d.text(chat, t(ctx.lang, T::PickFirst), &[]);
        return Ok(());
    };
    let job = ReplyJob {
        chat_id: chat,
        user_id: ctx.sender.user_id,
        dialog_id,
        user_message_id,
        lang: ctx.lang,
        regenerate: None,
        summarize: false,
    };
    d.job(REPLY_SUBJECT, &Envelope::new(ctx.trace_id(), job));
    Ok(())
}

impl Ctx<'_> {
    /// The trace id of the jobs this update starts.
    pub fn trace_id(&self) -> String {
        format!("upd-{}", self.update_id)
    }
}
