//! Turns a raw Telegram update into one [`Action`]: commands, button presses, texts and the
//! kinds we cannot read. Pure parsing, no I/O, so every branch is unit-tested.

use runtime::envelope::JobInfo;
use serde::Deserialize;
use teloxide::types::{Update, UpdateKind, User};

/// The update as it arrives on the UPDATES subject.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct TgUpdate(pub Update);

impl TgUpdate {
    /// Reads an update, with every NUL character (U+0000) in its strings replaced by a space
    /// (one UTF-16 unit, so entity offsets still hold): PostgreSQL cannot store one in text
    /// and no person means one, so a text carrying it is stored instead of failing for ever.
    pub fn decode(payload: &[u8]) -> serde_json::Result<Self> {
        if !payload.windows(6).any(|w| w == b"\\u0000") {
            return serde_json::from_slice(payload);
        }
        let mut raw: serde_json::Value = serde_json::from_slice(payload)?;
        strip_nul(&mut raw);
        // teloxide reads update kinds by borrowed keys, which a `Value` cannot lend: re-read.
        serde_json::from_slice(&serde_json::to_vec(&raw)?)
    }
}

/// Replaces U+0000 by a space in every string in `v`.
fn strip_nul(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', " "),
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nul),
        serde_json::Value::Object(map) => map.values_mut().for_each(strip_nul),
        _ => {}
    }
}

impl JobInfo for TgUpdate {
    fn chat_id(&self) -> Option<i64> {
        self.0.chat().map(|c| c.id.0)
    }
    fn trace_id(&self) -> String {
        format!("upd-{}", self.0.id.0)
    }
}

impl TgUpdate {
    /// The sender's interface language.
    pub fn lang(&self) -> companion::locale::Lang {
        let language = self.0.from().and_then(|u| u.language_code.as_deref());
        companion::locale::Lang::for_telegram(language)
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
        lang: Option<companion::locale::Lang>,
        callback: Option<String>,
    },
    /// `/settings` (`change` none: show them) or one of its buttons.
    Settings {
        change: Option<Setting>,
        callback: Option<String>,
        shown: Option<i64>,
    },
    /// Nudges from persona `girl_id` on or off: the question's buttons, or their `/settings` row
    /// (`settings`).
    Nudges {
        girl_id: i32,
        on: bool,
        settings: bool,
        callback: String,
        shown: Option<i64>,
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
        request: companion::ui::admin::Request,
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
    /// `/memory` (its first page) or a press on its view.
    Memory {
        press: companion::ui::memory::MemoryPress,
        callback: Option<String>,
        shown: Option<i64>,
    },
    /// A command we do not know.
    UnknownCommand,
    /// A sticker, photo, voice… we cannot read.
    Unsupported,
    /// A button we no longer understand (old keyboard).
    StaleButton { callback: String },
    /// A voice note (heard before the transaction: `crate::voice`), 🔊, `/settings`.
    Voice(voice::Voice),
}

/// A change made in `/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The time zone, minutes east of UTC.
    Zone(i16),
    /// Quiet hours from–to (local hours).
    Quiet(u8, u8),
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
                None => match m.voice() {
                    Some(v) => Action::Voice(voice::Voice::note(v)),
                    None => Action::Unsupported,
                },
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

mod cost;
mod gate;
mod parse;
pub mod voice;
use parse::{button, command};

#[cfg(test)]
mod tests;
