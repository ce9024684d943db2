//! What every action's handler is given besides the transaction and the decision: who sent the
//! update, where they stand, and the stage's settings; with the few ways every handler speaks
//! (a text, a button's toast, a reply job).

use companion::jobs::{Regenerate, ReplyJob};
use companion::locale::{Lang, T, t};
use companion::photos::Limits;
use companion::ui::admin::AdminIds;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::REPLY_SUBJECT;

use crate::route::Sender;
use crate::store::budget::Rate;

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
    pub rate: Rate,
    /// The language the bot speaks to them.
    pub lang: Lang,
    /// The dialog whose new title their next text is.
    pub renaming: Option<i64>,
    /// Photo limits.
    pub photos: Limits,
    /// Who may open the admin panel.
    pub admins: &'a AdminIds,
    /// Nudge settings (the silence before one).
    pub nudges: companion::nudges::NudgeSettings,
    /// The user's current persona may write first: a message to her re-arms the schedule.
    pub nudges_on: bool,
    /// Answers can be spoken (text to speech is configured): 🔊 is offered.
    pub speak: bool,
}

impl Ctx<'_> {
    /// The trace id of the jobs this update starts.
    pub fn trace_id(&self) -> String {
        format!("upd-{}", self.update_id)
    }

    /// Says text `key` as a message.
    pub fn say(&self, d: &mut Decision, key: T) {
        d.text(self.sender.chat_id, t(self.lang, key), &[]);
    }

    /// Says `text`: as the pressed button's toast, or as a message for a command.
    pub fn tell(&self, d: &mut Decision, callback: Option<&str>, text: &str) {
        match callback {
            Some(id) => d.answer_callback(self.sender.chat_id, id, Some(text)),
            None => {
                d.text(self.sender.chat_id, text, &[]);
            }
        }
    }

    /// Queues an answer (or, with `regenerate`, another version of one) to user message
    /// `user_message_id` of dialog `dialog_id`.
    pub fn reply(
        &self,
        d: &mut Decision,
        dialog_id: i64,
        user_message_id: i64,
        regenerate: Option<Regenerate>,
    ) {
        let job = ReplyJob {
            chat_id: self.sender.chat_id,
            user_id: self.sender.user_id,
            dialog_id,
            user_message_id,
            lang: self.lang,
            regenerate,
            summarize: false,
            remember: false,
            nudge: false,
            speak: None,
        };
        d.job(REPLY_SUBJECT, &Envelope::new(self.trace_id(), job));
    }
}
