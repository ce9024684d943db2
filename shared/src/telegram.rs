//! The Telegram Bot API client shared by the functions that answer users: teloxide pointed at
//! `TELEGRAM_API_URL`, with its errors classified for the runner and the bot token redacted
//! from every message (reqwest errors carry the URL, and Bot API URLs carry the token).

use std::time::Duration;

use teloxide::payloads::{AnswerCallbackQuerySetters, SendMessageSetters, SendPhotoSetters};
use teloxide::prelude::Requester;
use teloxide::types::{ChatAction, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile};
use teloxide::{ApiError, Bot, RequestError};

use crate::config::{Secret, TelegramSettings};
use crate::error::HandlerError;

/// A Bot API client that never leaks its token.
#[derive(Clone)]
pub struct Telegram {
    bot: Bot,
    token: Secret,
}

/// A row of inline buttons, each `(label, callback_data)`.
pub type ButtonRow = Vec<(String, String)>;

impl Telegram {
    /// Builds the client; `api_url` was validated by the config reader.
    pub fn new(settings: &TelegramSettings) -> Result<Self, String> {
        let url = reqwest::Url::parse(&settings.api_url)
            .map_err(|e| format!("TELEGRAM_API_URL is not a URL: {e}"))?;
        let client = teloxide::net::default_reqwest_settings()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        let bot = Bot::with_client(settings.bot_token.expose(), client).set_api_url(url);
        Ok(Self {
            bot,
            token: settings.bot_token.clone(),
        })
    }

    /// Removes the token from any text before it is logged or stored.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.token)
    }

    /// Classifies a teloxide error: 429 → retry after Telegram's delay, network and server
    /// trouble → transient, anything Telegram refused → permanent.
    pub fn classify(&self, e: RequestError) -> HandlerError {
        let reason = self.redact(&format!("telegram: {e}"));
        match e {
            RequestError::RetryAfter(s) => HandlerError::retry_after(reason, s.duration()),
            RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
                HandlerError::transient(reason)
            }
            RequestError::Api(ApiError::Unknown(ref d)) if is_server_side(d) => {
                HandlerError::transient(reason)
            }
            RequestError::Api(_) | RequestError::MigrateToChatId(_) => {
                HandlerError::permanent(reason)
            }
        }
    }

    /// Sends a text with optional inline buttons; returns the Telegram message id.
    pub async fn send_text(
        &self,
        chat_id: i64,
        text: &str,
        buttons: Vec<ButtonRow>,
    ) -> Result<i64, HandlerError> {
        let mut req = self.bot.send_message(ChatId(chat_id), text);
        if !buttons.is_empty() {
            req = req.reply_markup(keyboard(buttons));
        }
        let msg = req.await.map_err(|e| self.classify(e))?;
        Ok(i64::from(msg.id.0))
    }

    /// Uploads a PNG as a photo with a caption and optional buttons.
    pub async fn send_photo(
        &self,
        chat_id: i64,
        png: Vec<u8>,
        caption: &str,
        buttons: Vec<ButtonRow>,
    ) -> Result<i64, HandlerError> {
        let file = InputFile::memory(png).file_name("photo.png");
        let mut req = self.bot.send_photo(ChatId(chat_id), file).caption(caption);
        if !buttons.is_empty() {
            req = req.reply_markup(keyboard(buttons));
        }
        let msg = req.await.map_err(|e| self.classify(e))?;
        Ok(i64::from(msg.id.0))
    }

    /// Stops the client's progress bar on a pressed button. Failure is logged, not raised:
    /// an old callback cannot be answered and must not block the work it asked for.
    pub async fn answer_callback(&self, id: &str, text: Option<&str>) {
        let mut req = self
            .bot
            .answer_callback_query(teloxide::types::CallbackQueryId(id.to_owned()));
        if let Some(t) = text {
            req = req.text(t);
        }
        if let Err(e) = req.await {
            tracing::warn!(error = %self.redact(&e.to_string()), "answerCallbackQuery failed");
        }
    }

    /// Shows "typing…" (best effort).
    pub async fn typing(&self, chat_id: i64) {
        if let Err(e) = self
            .bot
            .send_chat_action(ChatId(chat_id), ChatAction::Typing)
            .await
        {
            tracing::debug!(error = %self.redact(&e.to_string()), "sendChatAction failed");
        }
    }
}

/// Callback data of the photo button under a dialog's messages.
pub fn photo_callback(dialog_id: i64) -> String {
    format!("photo:{dialog_id}")
}

/// The photo button shown under a dialog's messages.
pub fn photo_button(dialog_id: i64) -> Vec<ButtonRow> {
    vec![vec![(
        crate::texts::PHOTO_BUTTON.to_owned(),
        photo_callback(dialog_id),
    )]]
}

fn keyboard(rows: Vec<ButtonRow>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.into_iter().map(|row| {
        row.into_iter()
            .map(|(label, data)| InlineKeyboardButton::callback(label, data))
            .collect::<Vec<_>>()
    }))
}

fn is_server_side(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    [
        "internal server error",
        "bad gateway",
        "gateway timeout",
        "service unavailable",
        "too many requests",
    ]
    .iter()
    .any(|s| d.contains(s))
}

/// Replaces the token (and its URL-encoded form) with `***`.
pub fn redact(text: &str, token: &Secret) -> String {
    if token.is_empty() {
        return text.to_owned();
    }
    let encoded = token.expose().replace(':', "%3A");
    text.replace(token.expose(), "***").replace(&encoded, "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_redacted_plain_and_encoded() {
        let t = Secret::new("123456:AAbbCC");
        let s = redact(
            "error sending request for url (http://x/bot123456:AAbbCC/SendMessage) 123456%3AAAbbCC",
            &t,
        );
        assert!(!s.contains("AAbbCC"), "{s}");
        assert!(s.contains("/bot***/SendMessage"));
    }

    #[test]
    fn server_side_errors_are_recognised() {
        assert!(is_server_side("Internal Server Error"));
        assert!(!is_server_side("Bad Request: chat not found"));
    }
}
