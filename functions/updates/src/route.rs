//! Turns a raw Telegram update into one [`Action`]: commands, button presses, texts and the
//! kinds we cannot read. Pure parsing, no I/O, so every branch is unit-tested.

use serde::Deserialize;
use shared::admin::{Request, Section};
use shared::buttons::Button;
use shared::envelope::JobInfo;
use teloxide::types::{Update, UpdateKind, User};

/// The update as it arrives on the UPDATES subject.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct TgUpdate(pub Update);

impl JobInfo for TgUpdate {
    fn chat_id(&self) -> Option<i64> {
        self.0.chat().map(|c| c.id.0)
    }
    fn trace_id(&self) -> String {
        format!("upd-{}", self.0.id.0)
    }
    fn lang(&self) -> shared::locale::Lang {
        let language = self.0.from().and_then(|u| u.language_code.as_deref());
        shared::locale::Lang::for_telegram(language)
    }
}

/// Who sent the update.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    /// Telegram user id.
    pub user_id: i64,
    /// Private chat id (equal to the user id in private chats).
    pub chat_id: i64,
    /// First name, for `{{user}}`.
    pub first_name: String,
    /// Username, if any.
    pub username: Option<String>,
    /// IETF language tag, if any.
    pub language: Option<String>,
    /// Telegram's id of the message the update carries (for a text: to find it when edited).
    pub message_id: Option<i64>,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `/start`.
    Start,
    /// `/help`.
    Help,
    /// `/photo [wish]`, or the photo button (with the dialog it was under and the message
    /// it was pressed under).
    Photo {
        dialog_id: Option<i64>,
        callback: Option<String>,
        shown: Option<i64>,
        wish: Option<String>,
    },
    /// The 18+ confirmation button.
    ConfirmAge { callback: String },
    /// The "under 18" button.
    DeclineAge { callback: String },
    /// A persona button: her latest dialog, or a new one.
    ChoosePersona { girl_id: i32, callback: String },
    /// "Try again" under the notice of a failed answer.
    Retry { message_id: i64, callback: String },
    /// ◀ / ▶ under a message with variants.
    Swipe {
        message_id: i64,
        index: i16,
        callback: String,
        /// The Telegram message the button was under.
        shown: Option<i64>,
    },
    /// 🔄 under an answer (to user message `message_id`), or `/retry` (the latest answer).
    Regenerate {
        message_id: Option<i64>,
        callback: Option<String>,
        /// The Telegram message the button was under.
        shown: Option<i64>,
    },
    /// ⏹ under an answer being written to user message `message_id`.
    Stop { message_id: i64, callback: String },
    /// `/chats` or a page button of the list.
    Chats {
        page: i16,
        callback: Option<String>,
        shown: Option<i64>,
    },
    /// Continue a dialog from the list.
    Open { dialog_id: i64, callback: String },
    /// ✏️: the next text is the dialog's title.
    Rename { dialog_id: i64, callback: String },
    /// 🗑: asks to confirm (`confirmed` false) or deletes (true).
    Delete {
        dialog_id: i64,
        confirmed: bool,
        callback: String,
        shown: Option<i64>,
    },
    /// `/lang` (offer the languages) or a language button.
    Lang {
        lang: Option<shared::locale::Lang>,
        callback: Option<String>,
    },
    /// The user edited an earlier text message (Telegram's id of it).
    Edited { telegram_id: i64, text: String },
    /// `/new`: a new dialog with the current persona.
    NewDialog,
    /// `/persona`: the persona picker.
    Personas,
    /// A chat message for the current persona.
    Text(String),
    /// `/admin [user <id>]`, or a panel button: acted on only for admins.
    Admin {
        request: shared::admin::Request,
        callback: Option<String>,
        shown: Option<i64>,
    },
    /// `/export`: the current dialog as files.
    Export,
    /// `/delete_my_data` (`choice` none: ask), or its buttons: erase everything (`true`) or
    /// keep it (`false`).
    EraseMe {
        choice: Option<bool>,
        callback: Option<String>,
        shown: Option<i64>,
    },
    /// A command we do not know.
    UnknownCommand,
    /// A sticker, photo, voice… we cannot read.
    Unsupported,
    /// A button we no longer understand (old keyboard).
    StaleButton { callback: String },
}

/// The sender and action of an update, or `None` for updates the bot ignores (membership
/// changes, group chats, bots, edited commands or media).
pub fn route(update: &Update) -> Option<(Sender, Action)> {
    match &update.kind {
        UpdateKind::Message(m) if m.chat.is_private() => {
            let mut sender = sender(m.from.as_ref()?, m.chat.id.0)?;
            sender.message_id = Some(i64::from(m.id.0));
            let action = match m.text() {
                Some(t) if t.starts_with('/') => command(t),
                Some(t) => Action::Text(t.to_owned()),
                None => Action::Unsupported,
            };
            Some((sender, action))
        }
        UpdateKind::EditedMessage(m) if m.chat.is_private() => {
            let sender = sender(m.from.as_ref()?, m.chat.id.0)?;
            let text = m.text()?.to_owned();
            (!text.starts_with('/')).then_some(())?;
            let telegram_id = i64::from(m.id.0);
            Some((sender, Action::Edited { telegram_id, text }))
        }
        UpdateKind::CallbackQuery(q) => {
            let chat_id = q
                .message
                .as_ref()
                .map(|m| m.chat().id.0)
                .unwrap_or(q.from.id.0 as i64);
            let callback = q.id.0.clone();
            let data = q.data.as_deref().unwrap_or_default();
            let shown = q.message.as_ref().map(|m| i64::from(m.id().0));
            Some((sender(&q.from, chat_id)?, button(data, callback, shown)))
        }
        _ => None,
    }
}

impl Action {
    /// The id of the pressed button's callback query, if the action came from one.
    pub fn callback(&self) -> Option<&str> {
        match self {
            Action::ConfirmAge { callback }
            | Action::DeclineAge { callback }
            | Action::ChoosePersona { callback, .. }
            | Action::Retry { callback, .. }
            | Action::Swipe { callback, .. }
            | Action::Stop { callback, .. }
            | Action::Open { callback, .. }
            | Action::Rename { callback, .. }
            | Action::Delete { callback, .. }
            | Action::StaleButton { callback } => Some(callback),
            Action::Photo { callback, .. }
            | Action::Admin { callback, .. }
            | Action::EraseMe { callback, .. }
            | Action::Regenerate { callback, .. }
            | Action::Chats { callback, .. }
            | Action::Lang { callback, .. } => callback.as_deref(),
            Action::Start
            | Action::Help
            | Action::NewDialog
            | Action::Personas
            | Action::Export
            | Action::Text(_)
            | Action::Edited { .. }
            | Action::UnknownCommand
            | Action::Unsupported => None,
        }
    }
}

fn sender(u: &User, chat_id: i64) -> Option<Sender> {
    (!u.is_bot).then(|| Sender {
        user_id: u.id.0 as i64,
        chat_id,
        first_name: u.first_name.clone(),
        username: u.username.clone(),
        language: u.language_code.clone(),
        message_id: None,
    })
}

fn command(text: &str) -> Action {
    let word = text.split_whitespace().next().unwrap_or_default();
    let name = word
        .trim_start_matches('/')
        .split('@')
        .next()
        .unwrap_or_default();
    match name.to_ascii_lowercase().as_str() {
        "start" => Action::Start,
        "help" => Action::Help,
        "new" => Action::NewDialog,
        "persona" => Action::Personas,
        "retry" => Action::Regenerate {
            message_id: None,
            callback: None,
            shown: None,
        },
        "chats" => Action::Chats {
            page: 0,
            callback: None,
            shown: None,
        },
        "lang" => Action::Lang {
            lang: None,
            callback: None,
        },
        "admin" => {
            let mut args = text.split_whitespace().skip(1);
            let about_user = match (args.next(), args.next()) {
                (Some("user"), Some(id)) => id.parse::<i64>().ok(),
                _ => None,
            };
            let section = if about_user.is_some() {
                shared::admin::Section::Users
            } else {
                shared::admin::Section::Overview
            };
            Action::Admin {
                request: shared::admin::Request {
                    about_user,
                    ..shared::admin::Request::section(section)
                },
                callback: None,
                shown: None,
            }
        }
        "export" => Action::Export,
        "delete_my_data" => Action::EraseMe {
            choice: None,
            callback: None,
            shown: None,
        },
        "photo" => Action::Photo {
            dialog_id: None,
            callback: None,
            shown: None,
            wish: text
                .split_once(char::is_whitespace)
                .map(|(_, rest)| rest.trim().to_owned())
                .filter(|w| !w.is_empty()),
        },
        _ => Action::UnknownCommand,
    }
}

fn button(data: &str, callback: String, shown: Option<i64>) -> Action {
    match Button::decode(data) {
        Some(Button::ConfirmAge) => Action::ConfirmAge { callback },
        Some(Button::DeclineAge) => Action::DeclineAge { callback },
        Some(Button::Persona(girl_id)) => Action::ChoosePersona { girl_id, callback },
        Some(Button::Admin(section)) => admin(Request::section(section), callback, shown),
        Some(Button::AdminPage(section, page)) => admin(
            Request {
                page,
                ..Request::section(section)
            },
            callback,
            shown,
        ),
        Some(Button::AdminRetry(id)) => admin(
            Request {
                retry: Some(id),
                ..Request::section(Section::Health)
            },
            callback,
            shown,
        ),
        Some(Button::EraseMe(erase)) => Action::EraseMe {
            choice: Some(erase),
            callback: Some(callback),
            shown,
        },
        Some(Button::Photo(id)) => Action::Photo {
            dialog_id: Some(id),
            callback: Some(callback),
            shown,
            wish: None,
        },
        Some(Button::Retry(message_id)) => Action::Retry {
            message_id,
            callback,
        },
        Some(Button::Swipe { message, index }) => Action::Swipe {
            message_id: message,
            index,
            callback,
            shown,
        },
        Some(Button::Regenerate(message_id)) => Action::Regenerate {
            message_id: Some(message_id),
            callback: Some(callback),
            shown,
        },
        Some(Button::Stop(message_id)) => Action::Stop {
            message_id,
            callback,
        },
        Some(Button::Chats(page)) => Action::Chats {
            page,
            callback: Some(callback),
            shown,
        },
        Some(Button::Open(dialog_id)) => Action::Open {
            dialog_id,
            callback,
        },
        Some(Button::Rename(dialog_id)) => Action::Rename {
            dialog_id,
            callback,
        },
        Some(Button::Delete(dialog_id)) => Action::Delete {
            dialog_id,
            confirmed: false,
            callback,
            shown,
        },
        Some(Button::DeleteConfirmed(dialog_id)) => Action::Delete {
            dialog_id,
            confirmed: true,
            callback,
            shown,
        },
        Some(Button::Lang(lang)) => Action::Lang {
            lang: Some(lang),
            callback: Some(callback),
        },
        None => Action::StaleButton { callback },
    }
}

fn admin(request: Request, callback: String, shown: Option<i64>) -> Action {
    Action::Admin {
        request,
        callback: Some(callback),
        shown,
    }
}

#[cfg(test)]
mod tests;
