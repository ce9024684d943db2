//! Hearing a voice note (the actions themselves: `route::voice`), done before the update's
//! transaction opens (the Telegram download and the speech-to-text
//! call are network calls; no transaction or lock is held meanwhile). The update keeps its
//! place in the chat's order while it is heard — later updates of the chat wait — so a voice
//! note's words are stored and answered exactly where a text would have been; once heard, the
//! words take the text's path (`actions::voice`): budget, 18+ gate, the safety screen, the
//! split-request guard at the model. Limits (size, seconds per day) are checked before
//! anything is fetched, from what Telegram says of the note; a transcription is kept by
//! `file_unique_id`, so a redelivery does not pay for it twice.

use runtime::HandlerError;
use runtime::audio::{Speech, VoiceSettings};
use runtime::config::TelegramSettings;
use runtime::telegram::{BotApi, TgError};
use sqlx::PgPool;

use crate::route::Sender;
use crate::route::voice::{Note, Unheard, Voice};
use crate::store::voice as store;

/// What fn-updates hears with: the Bot API (to fetch notes) and speech to text, when
/// configured.
pub struct Ears {
    hearing: Option<(BotApi, Speech)>,
    max_bytes: usize,
    seconds_per_day: u32,
}

impl Ears {
    /// Ears for `voice`; `telegram` is read only when speech to text is configured.
    pub fn new(voice: &VoiceSettings, telegram: Option<&TelegramSettings>) -> Result<Self, String> {
        let hearing = match (&voice.stt, telegram) {
            (Some(api), Some(tg)) => {
                let speech = Speech::new(api.clone(), voice.timeout, 64 << 10)?;
                Some((BotApi::new(tg, voice.timeout)?, speech))
            }
            _ => None,
        };
        Ok(Self {
            hearing,
            max_bytes: voice.max_bytes,
            seconds_per_day: voice.seconds_per_day,
        })
    }

    /// Hears voice note `note` of `sender`: its words, or why not. A user who has not
    /// confirmed 18+ is not heard (the note goes on as it is, to the age gate).
    pub async fn hear(
        &self,
        pool: &PgPool,
        sender: &Sender,
        note: Note,
    ) -> Result<Voice, HandlerError> {
        let Some((bot, stt)) = &self.hearing else {
            return Ok(Voice::Unheard(Unheard::NotConfigured));
        };
        if note.bytes.is_some_and(|b| b as usize > self.max_bytes) {
            return Ok(Voice::Unheard(Unheard::TooBig));
        }
        let before = store::before(pool, sender.user_id, &note.unique_id).await?;
        if !before.confirmed {
            return Ok(Voice::Note(note));
        }
        let seconds = note.seconds.max(1);
        if let Some(text) = before.heard {
            return Ok(Voice::Heard { text, seconds });
        }
        let used = u32::try_from(before.used).unwrap_or(0);
        if used.saturating_add(seconds) > self.seconds_per_day {
            return Ok(Voice::Unheard(Unheard::DailyLimit(self.seconds_per_day)));
        }
        let ogg = match bot.download(&note.file_id, self.max_bytes).await {
            Ok(b) => b,
            Err(TgError::Permanent(why)) => {
                tracing::info!(%why, "voice note not fetched");
                return Ok(Voice::Unheard(Unheard::TooBig));
            }
            Err(e) => return Err(HandlerError::transient(e.to_string())),
        };
        let text = stt.transcribe(ogg).await?;
        // No NUL reaches the database (as for texts, `TgUpdate::decode`).
        let text = text.replace('\0', " ");
        if text.trim().is_empty() {
            return Ok(Voice::Unheard(Unheard::Empty));
        }
        store::keep(pool, sender.user_id, &note.unique_id, &text).await?;
        Ok(Voice::Heard { text, seconds })
    }
}
