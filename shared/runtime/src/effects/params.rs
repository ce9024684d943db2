//! Fields of a stored call that are ours, not Telegram's — fn-send reads them and takes them
//! out before the call is made — and the decisions that set them: edits of a message another
//! effect sent, streaming steps, an erasure's final message, a panel about a user.

use serde_json::json;
use uuid::Uuid;

use super::{Decision, text_params};
use crate::telegram::ButtonRow;

/// In an edit's parameters: the effect whose message it edits (resolved by fn-send).
pub const EDIT_OF: &str = "edit_of";
/// In an edit's parameters: send it as a new message when that effect's message never went out.
pub const OR_SEND: &str = "or_send";
/// In a call's parameters: the erasure (`erasures.id`) whose final message this is.
pub const ERASURE: &str = "erasure";
/// In a call's parameters: the user the message is about (an admin's panel of their figures),
/// so their erasure finds it.
pub const ABOUT_USER: &str = "about_user";
/// In a streaming step's parameters (the draft, a passing edit): the effect id of the
/// answer's final text. fn-send drops a passing edit once that exists, and the draft once that
/// went out without it, so the final text always wins, whatever order the steps of two
/// deliveries were written in.
pub const FINAL: &str = "final";
/// In a photo's parameters: the persona whose avatar it is (sent by a cached file id), so
/// fn-send can send her current one, or upload it, when Telegram no longer knows that id.
pub const AVATAR_OF: &str = "avatar_of";
/// In a message's parameters: it answers nobody (a nudge, a broadcast), so it is written as a
/// bulk send (`effects.bulk`) and paced by the bot-wide bulk rate.
pub const BULK: &str = "bulk";
/// Every field that is ours.
pub const OURS: [&str; 7] = [
    EDIT_OF, OR_SEND, ERASURE, ABOUT_USER, FINAL, AVATAR_OF, BULK,
];

impl Decision {
    /// Replaces the text and buttons of the message that effect `of` sent. The Telegram
    /// message id is looked up when this is sent (after `of`, which comes earlier in the
    /// chat's order); if `of` never reached the user, a `last` edit is sent as a new message
    /// (the final text always lands) and a passing one is dropped.
    pub fn edit_sent(
        &mut self,
        chat_id: i64,
        of: Uuid,
        text: &str,
        buttons: &[ButtonRow],
        last: bool,
    ) -> Uuid {
        self.edit_sent_as(Uuid::new_v4(), chat_id, of, text, buttons, last)
    }

    /// [`Decision::edit_sent`] with an effect id chosen by the caller.
    pub fn edit_sent_as(
        &mut self,
        id: Uuid,
        chat_id: i64,
        of: Uuid,
        text: &str,
        buttons: &[ButtonRow],
        last: bool,
    ) -> Uuid {
        let mut params = text_params(chat_id, text, buttons);
        params[EDIT_OF] = json!(of);
        params[OR_SEND] = json!(last);
        self.push_as(id, chat_id, "editMessageText", params, true)
    }

    /// Marks every message decided so far as a streaming step of the answer whose final text
    /// is effect `id` ([`FINAL`]): dropped unsent once that makes it stale.
    pub fn until_final(&mut self, id: Uuid) {
        for e in &mut self.effects {
            e.params[FINAL] = json!(id);
        }
    }

    /// Marks every message decided so far as being about user `id` (an admin's panel of their
    /// figures): the user's erasure removes them from the delivery log by this mark.
    pub fn about_user(&mut self, id: i64) {
        for e in &mut self.effects {
            e.params[ABOUT_USER] = json!(id);
        }
    }

    /// Makes the last effect the final message of erasure `id` (`ERASURE` in its call): fn-send
    /// sends it after everything decided before it, then removes the erased user's job status
    /// from the KV bucket and the last rows its sending left.
    /// An edit that cannot be made lands as a new message, and a message that cannot be sent
    /// is followed by no apology (there is no one left to apologise to).
    pub fn erasure(&mut self, id: Uuid) {
        if let Some(last) = self.effects.last_mut() {
            last.params[ERASURE] = json!(id);
            last.params[OR_SEND] = json!(true);
            last.notice = true;
        }
    }

    /// Marks the last effect as a bulk send ([`BULK`]): it answers nobody, so fn-send paces
    /// it by the bot-wide bulk rate.
    pub fn bulk(&mut self) {
        if let Some(last) = self.effects.last_mut() {
            last.params[BULK] = json!(true);
        }
    }

    /// Marks the last effect (a photo by file id) as persona `girl_id`'s avatar ([`AVATAR_OF`]).
    pub fn avatar_of(&mut self, girl_id: i32) {
        if let Some(last) = self.effects.last_mut() {
            last.params[AVATAR_OF] = json!(girl_id);
        }
    }
}
