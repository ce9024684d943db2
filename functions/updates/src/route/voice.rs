//! The voice-related actions, read from an update: a voice note as Telegram describes it (heard
//! later, before the transaction: `crate::voice`), its words or why it was not heard, 🔊 under
//! an answer, and `/settings` with the "answer in voice" toggle.

/// A voice-related action.
#[derive(Debug, Clone, PartialEq)]
pub enum Voice {
    /// A voice note as it arrived (not heard yet).
    Note(Note),
    /// Its words (its seconds and a message of the user's rate were taken when it was
    /// reserved, before it was fetched).
    Heard { text: String },
    /// Why it was not heard.
    Unheard(Unheard),
    /// 🔊 under the answer to user message `message_id`, version `index`.
    Speak {
        message_id: i64,
        index: i16,
        callback: String,
    },
    /// `/settings` (`on` none), or the "answer in voice" toggle.
    Settings {
        on: Option<bool>,
        callback: Option<String>,
        shown: Option<i64>,
    },
}

/// A voice note, as Telegram describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// To fetch it.
    pub file_id: String,
    /// The same for every copy of the file (the transcription's key).
    pub unique_id: String,
    /// Its length.
    pub seconds: u32,
    /// Its size, when Telegram gave one.
    pub bytes: Option<u32>,
}

/// Why a voice note was not heard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unheard {
    /// Over the user's rate: wait this long.
    OverBudget(std::time::Duration),
    /// The audio could not be read (not Ogg/Opus, refused by the speech service).
    Unreadable,
    /// The speech service stayed down: send it again later.
    Outage,
    /// No speech-to-text service is configured.
    NotConfigured,
    /// Larger than `VOICE_MAX_BYTES`.
    TooBig,
    /// Over the day's seconds (the limit).
    DailyLimit(u32),
    /// No words in it.
    Empty,
}

impl Voice {
    /// A voice note from Telegram's message.
    pub fn note(v: &teloxide::types::Voice) -> Self {
        Voice::Note(Note {
            file_id: v.file.id.0.clone(),
            unique_id: v.file.unique_id.0.clone(),
            seconds: v.duration.seconds(),
            // Telegram's missing size reads as u32::MAX: unknown, the download is capped.
            bytes: (v.file.size != u32::MAX).then_some(v.file.size),
        })
    }

    /// Whether it is only for users who confirmed 18+ (all but the settings).
    pub fn needs_age(&self) -> bool {
        !matches!(self, Voice::Settings { .. })
    }

    /// The pressed button's callback query, if any.
    pub fn callback(&self) -> Option<&str> {
        match self {
            Voice::Speak { callback, .. } => Some(callback),
            Voice::Settings { callback, .. } => callback.as_deref(),
            _ => None,
        }
    }

    /// What it costs the user's budget: hearing and answering like a text (taken when the note
    /// was reserved, so nothing more once heard); speaking one.
    pub fn cost(&self) -> f64 {
        match self {
            Voice::Heard { .. } => 0.0,
            Voice::Note(_) | Voice::Speak { .. } => 1.0,
            Voice::Unheard(_) => 0.5,
            Voice::Settings { .. } => 0.25,
        }
    }
}
