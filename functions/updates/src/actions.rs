//! What each [`Action`] does, inside the update's transaction: database writes, and in the
//! [`Decision`] the answers to the user and the jobs for other stages, all sent only after the
//! commit. Everything said comes from `shared::texts`.

use shared::buttons::Button;
use shared::effects::Decision;
use shared::envelope::{Envelope, PromptJob, ReplyJob};
use shared::telegram::{ButtonRow, photo_button, variant_buttons};
use shared::topology::{PROMPT_SUBJECT, REPLY_SUBJECT};
use shared::{HandlerError, texts};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::route::{Action, Sender};
use crate::{dialogs, store};

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
}

/// Applies one action.
pub async fn apply(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    action: Action,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    if needs_age(&action) && !ctx.confirmed {
        if let Action::Photo {
            callback: Some(id), ..
        }
        | Action::ChoosePersona { callback: id, .. } = &action
        {
            d.answer_callback(chat, id, None);
        }
        d.text(chat, texts::AGE_GATE, &age_button());
        return Ok(());
    }
    match action {
        Action::Start if ctx.confirmed => {
            let text = format!("{}\n\n{}", texts::WELCOME, texts::CHOOSE_PERSONA);
            persona_menu(c, ctx, d, &text).await?;
        }
        Action::Start => {
            let text = format!("{}\n\n{}", texts::WELCOME, texts::AGE_GATE);
            d.text(chat, &text, &age_button());
        }
        Action::Help => {
            d.text(chat, texts::HELP, &[]);
        }
        Action::ConfirmAge { callback } => {
            store::confirm_age(c, ctx.sender.user_id).await?;
            d.answer_callback(chat, &callback, None);
            persona_menu(c, ctx, d, texts::AGE_CONFIRMED).await?;
        }
        Action::ChoosePersona { girl_id, callback } => {
            d.answer_callback(chat, &callback, None);
            match dialogs::resume(c, ctx.sender.user_id, girl_id).await? {
                Some(r) => {
                    let text = texts::resumed(&r.name, r.messages, r.last.as_deref());
                    d.text(chat, &text, &photo_button(r.dialog_id));
                }
                None => new_dialog(c, ctx, d, girl_id).await?,
            }
        }
        Action::NewDialog => match dialogs::current_persona(c, ctx.sender.user_id).await? {
            Some(girl_id) => new_dialog(c, ctx, d, girl_id).await?,
            None => persona_menu(c, ctx, d, texts::CHOOSE_PERSONA).await?,
        },
        Action::Personas => persona_menu(c, ctx, d, texts::CHOOSE_PERSONA).await?,
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
                };
                d.job(REPLY_SUBJECT, &Envelope::new(ctx.trace_id(), job));
            }
            None => d.answer_callback(chat, &callback, Some(texts::NOTHING_TO_RETRY)),
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
                    let n = i16::try_from(s.variants).unwrap_or(i16::MAX);
                    let buttons = variant_buttons(message_id, index, n, s.dialog_id);
                    d.edit_text(chat, shown, &s.content, &buttons);
                }
                _ => d.answer_callback(chat, &callback, Some(texts::SWIPE_TOO_LATE)),
            }
        }
        Action::Text(text) => text_message(c, ctx, d, &text).await?,
        Action::Photo {
            dialog_id,
            callback,
        } => photo(c, ctx, d, dialog_id, callback).await?,
        Action::UnknownCommand => {
            d.text(chat, texts::UNKNOWN_COMMAND, &[]);
        }
        Action::Unsupported => {
            d.text(chat, texts::UNSUPPORTED, &[]);
        }
        Action::StaleButton { callback } => {
            d.answer_callback(chat, &callback, Some(texts::STALE_BUTTON));
        }
    }
    Ok(())
}

/// Whether an action is only for users who confirmed 18+. Every action is listed, with no
/// catch-all: a new action does not compile until it is placed on one side of the gate.
fn needs_age(action: &Action) -> bool {
    match action {
        Action::Text(_)
        | Action::Photo { .. }
        | Action::ChoosePersona { .. }
        | Action::NewDialog
        | Action::Personas
        | Action::Swipe { .. }
        | Action::Retry { .. } => true,
        Action::Start
        | Action::Help
        | Action::ConfirmAge { .. }
        | Action::UnknownCommand
        | Action::Unsupported
        | Action::StaleButton { .. } => false,
    }
}

/// Opens a new dialog with `girl_id` and sends her greeting.
async fn new_dialog(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    girl_id: i32,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let seed = (Uuid::new_v4().as_u64_pair().0 & 0xffff_ffff) as i64;
    match dialogs::open_dialog(c, ctx.sender.user_id, girl_id, seed).await? {
        Some(o) => {
            let n = i16::try_from(o.variants).unwrap_or(i16::MAX);
            let buttons = variant_buttons(o.message_id, 0, n, o.dialog_id);
            d.text(chat, &o.greeting, &buttons);
        }
        None => {
            d.text(chat, texts::PERSONA_GONE, &[]);
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
    if text.chars().count() > ctx.max_chars {
        d.text(chat, &texts::too_long(ctx.max_chars), &[]);
        return Ok(());
    }
    if let Some((wait, tell)) = store::rate_take(c, ctx.sender.user_id, ctx.rate).await? {
        // Over the limit: one note, then silence until the wait is over.
        if tell {
            d.text(chat, &texts::slow_down(wait.as_secs().max(1)), &[]);
        }
        return Ok(());
    }
    let stored = store::store_text(c, ctx.sender.user_id, ctx.update_id, text).await?;
    let Some((dialog_id, user_message_id)) = stored else {
        d.text(chat, texts::PICK_FIRST, &[]);
        return Ok(());
    };
    let job = ReplyJob {
        chat_id: chat,
        user_id: ctx.sender.user_id,
        dialog_id,
        user_message_id,
    };
    d.job(REPLY_SUBJECT, &Envelope::new(ctx.trace_id(), job));
    Ok(())
}

async fn photo(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog: Option<i64>,
    callback: Option<String>,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let user = ctx.sender.user_id;
    let dialog_id = match dialog {
        Some(id) if dialogs::owns_dialog(c, user, id).await? => Some(id),
        Some(_) => None,
        None => dialogs::active_dialog(c, user).await?,
    };
    let answer = |d: &mut Decision, text: &str| match &callback {
        Some(id) => d.answer_callback(chat, id, Some(text)),
        None => {
            d.text(chat, text, &[]);
        }
    };
    let Some(dialog_id) = dialog_id else {
        answer(d, texts::PICK_FIRST);
        return Ok(());
    };
    let job = PromptJob {
        chat_id: chat,
        user_id: user,
        dialog_id,
    };
    d.job(PROMPT_SUBJECT, &Envelope::new(ctx.trace_id(), job));
    answer(d, texts::PHOTO_ON_ITS_WAY);
    Ok(())
}

impl Ctx<'_> {
    fn trace_id(&self) -> String {
        format!("upd-{}", self.update_id)
    }

    /// The user's interface language: `ru` for Russian speakers, English otherwise.
    fn language(&self) -> &'static str {
        match self.sender.language.as_deref() {
            Some(l) if l.to_ascii_lowercase().starts_with("ru") => "ru",
            _ => "en",
        }
    }
}

async fn persona_menu(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
) -> Result<(), HandlerError> {
    let list = store::personas(c).await?;
    if list.is_empty() {
        d.text(ctx.sender.chat_id, texts::NO_PERSONAS, &[]);
        return Ok(());
    }
    let lang = ctx.language();
    let mut menu = text.to_owned();
    for p in &list {
        menu += &format!("\n\n{}, {}", p.name, p.age);
        if let Some(pitch) = p.pitch.0.get(lang).or_else(|| p.pitch.0.get("en")) {
            menu += &format!(" — {pitch}");
        }
    }
    let rows: Vec<ButtonRow> = list
        .into_iter()
        .map(|p| vec![(format!("💬 {}", p.name), Button::Persona(p.id).encode())])
        .collect();
    d.text(ctx.sender.chat_id, &menu, &rows);
    Ok(())
}

fn age_button() -> Vec<ButtonRow> {
    vec![vec![(
        texts::AGE_CONFIRM_BUTTON.to_owned(),
        Button::ConfirmAge.encode(),
    )]]
}
