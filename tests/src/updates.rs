//! Builders of Telegram `Update` JSON as the Bot API sends it: a user's text (or command) in a
//! private chat, a voice note, and a press on an inline button.

use serde_json::{Value, json};

/// A simulated Telegram user.
#[derive(Debug, Clone)]
pub struct User {
    /// User id (also the private chat id).
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Telegram's `language_code` (the app's language; empty: the update carries none, as
    /// Telegram sends for some clients).
    pub language: String,
}

impl User {
    /// A user with an id and a first name.
    pub fn new(id: i64, first_name: &str) -> Self {
        Self {
            id,
            first_name: first_name.to_owned(),
            language: "en".to_owned(),
        }
    }

    /// The same user with their app in `language`.
    pub fn speaking(mut self, language: &str) -> Self {
        self.language = language.to_owned();
        self
    }

    fn json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if !self.language.is_empty() {
            user["language_code"] = self.language.clone().into();
        }
        user
    }

    fn chat(&self) -> Value {
        json!({"id": self.id, "type": "private", "first_name": self.first_name})
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An update carrying a text message; commands get their `bot_command` entity.
pub fn text(update_id: i64, message_id: i64, user: &User, text: &str) -> Value {
    let mut message = json!({
        "message_id": message_id, "date": now(), "chat": user.chat(), "from": user.json(), "text": text,
    });
    if text.starts_with('/') {
        let len = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .encode_utf16()
            .count();
        message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    json!({"update_id": update_id, "message": message})
}

/// An update carrying a sticker (something the bot cannot read).
pub fn sticker(update_id: i64, message_id: i64, user: &User) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": message_id, "date": now(), "chat": user.chat(), "from": user.json(),
        "sticker": {"file_id": "CAAC", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                    "height": 512, "is_animated": false, "is_video": false, "emoji": "🙂"}}})
}

/// An update for a press on an inline button under the bot's message `message_id`.
pub fn callback(update_id: i64, user: &User, message_id: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cb{update_id}"), "from": user.json(), "chat_instance": format!("ci{}", user.id),
        "data": data,
        "message": {"message_id": message_id, "date": now(), "chat": user.chat(),
                    "from": {"id": 1, "is_bot": true, "first_name": "Companion", "username": "companion_bot"},
                    "text": "…"}}})
}

/// An update saying the user edited their text message `message_id` to `text`.
pub fn edited(update_id: i64, message_id: i64, user: &User, text: &str) -> Value {
    json!({"update_id": update_id, "edited_message": {
        "message_id": message_id, "date": now() - 5, "edit_date": now(), "chat": user.chat(),
        "from": user.json(), "text": text}})
}

/// An update carrying a voice note Telegram keeps as `file_id` (`duration` seconds, `size`
/// bytes), as a phone sends it.
pub fn voice(
    update_id: i64,
    message_id: i64,
    user: &User,
    file: (&str, &str),
    duration: u32,
    size: usize,
) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": message_id, "date": now(), "chat": user.chat(), "from": user.json(),
        "voice": {"file_id": file.0, "file_unique_id": file.1, "duration": duration,
                  "mime_type": "audio/ogg", "file_size": size}}})
}
