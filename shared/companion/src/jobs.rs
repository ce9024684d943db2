//! The jobs the bot's stages pass each other (each travels in a `runtime::envelope::Envelope`
//! whose id is the job id), and the polite word a stage says when the runner gives up on one.
//!
//! The send job (effects for fn-send) is the runtime's own: every stage hands its effects over
//! the same way.

use runtime::envelope::Payload;
use runtime::runner::Notice;
use runtime::telegram::ButtonRow;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::locale::{Lang, T, t};
use crate::ui::admin::AdminJob;

/// Answer the latest user message of a dialog (or write its answer again).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReplyJob {
    /// Telegram chat to answer in.
    pub chat_id: i64,
    /// Telegram user id.
    pub user_id: i64,
    /// Dialog the message belongs to.
    pub dialog_id: i64,
    /// The stored user message (`chat_messages.id`) being answered.
    pub user_message_id: i64,
    /// The user's interface language (buttons, notices, the language the persona answers in).
    #[serde(default)]
    pub lang: Lang,
    /// Set when the answer exists and another version of it is wanted (🔄, `/retry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regenerate: Option<Regenerate>,
    /// Not an answer: fold the dialog's older messages into its rolling summary (nobody is
    /// told when that fails; the prompt simply keeps fewer turns).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub summarize: bool,
    /// Not an answer: extract the durable facts about the user from the dialog's messages
    /// since the last extraction into long-term memory (nobody is told when that fails).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remember: bool,
    /// Not an answer: a nudge, fired by a message schedule after the user's silence since
    /// `user_message_id` (their last message then); written only if it still may be (nobody
    /// is told when that fails).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nudge: bool,
    /// Not an answer: say an answer's version as voice notes (🔊, or the user's "answer in
    /// voice" setting right after the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speak: Option<Speak>,
}

/// Which answer version is spoken.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Speak {
    /// The answer (`chat_messages.id`); `None`: the answer to the job's user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<i64>,
    /// Its version (from 0).
    #[serde(default)]
    pub index: i16,
}

/// Which answer gets another version, and where it is shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Regenerate {
    /// The answer (`chat_messages.id`); its versions are `variants`.
    pub answer_id: i64,
    /// The Telegram message showing it, when the press came from under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<i64>,
    /// Otherwise the effect that sent it (its Telegram message id is looked up at send time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Uuid>,
}

/// Build an image prompt for the current moment of a dialog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PromptJob {
    /// Telegram chat to send the photo to.
    pub chat_id: i64,
    /// Telegram user id.
    pub user_id: i64,
    /// Dialog the photo illustrates.
    pub dialog_id: i64,
    /// The user's interface language.
    #[serde(default)]
    pub lang: Lang,
    /// The Telegram message the photo answers (the reply it illustrates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
    /// What the user asked for (`/photo in a red dress`), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wish: Option<String>,
}

/// Render one picture and send it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageJob {
    /// Telegram chat to send the photo to.
    pub chat_id: i64,
    /// Telegram user id.
    pub user_id: i64,
    /// Dialog the photo illustrates.
    pub dialog_id: i64,
    /// Positive prompt, always stating an adult subject.
    pub prompt: String,
    /// Negative prompt, always carrying the minor-related terms.
    pub negative_prompt: String,
    /// Seed fixed per dialog for a consistent face.
    pub seed: i64,
    /// Requested width in pixels.
    pub width: u32,
    /// Requested height in pixels.
    pub height: u32,
    /// The user's interface language.
    #[serde(default)]
    pub lang: Lang,
    /// The Telegram message the photo answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
    /// The caption, in the persona's voice.
    #[serde(default)]
    pub caption: String,
    /// The line the dialog's history gets once the photo is sent ("[Stacy sent a photo: …]").
    #[serde(default)]
    pub history: String,
}

macro_rules! told_in_chat {
    ($($t:ty),*) => {$(
        impl Payload for $t {
            fn chat_id(&self) -> Option<i64> { Some(self.chat_id) }
        }
    )*};
}
told_in_chat!(PromptJob, ImageJob, AdminJob);

impl ReplyJob {
    /// Not an answer anyone waits for: a summary, a memory extraction or a nudge (a spoken
    /// answer is waited for: its failure is told).
    pub fn background(&self) -> bool {
        self.summarize || self.remember || self.nudge
    }
}

/// A background job (summary, memory, nudge): its failure is told to nobody.
impl Payload for ReplyJob {
    fn chat_id(&self) -> Option<i64> {
        (!self.background()).then_some(self.chat_id)
    }
}

/// The polite word when the runner gives up: "Sorry" in `lang`, with `buttons` under it.
pub fn sorry(lang: Lang, buttons: Vec<ButtonRow>) -> Option<Notice> {
    Some(Notice {
        text: t(lang, T::Sorry).to_owned(),
        buttons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::envelope::{Envelope, JobInfo};

    #[test]
    fn a_reply_job_round_trips_and_a_summary_tells_nobody() {
        let e = Envelope::new(
            "upd-1",
            ReplyJob {
                chat_id: 1,
                user_id: 2,
                dialog_id: 3,
                user_message_id: 4,
                ..Default::default()
            },
        );
        let back: Envelope<ReplyJob> =
            serde_json::from_slice(&serde_json::to_vec(&e).unwrap()).unwrap();
        assert_eq!(e, back);
        assert_eq!(back.job_id(), Some(e.id));
        assert_eq!(back.chat_id(), Some(1));
        let summary = Envelope::new(
            "s",
            ReplyJob {
                summarize: true,
                ..e.payload
            },
        );
        assert_eq!(summary.chat_id(), None);
        let remember = Envelope::new(
            "m",
            ReplyJob {
                remember: true,
                summarize: false,
                ..summary.payload
            },
        );
        assert_eq!(remember.chat_id(), None);
    }
}
