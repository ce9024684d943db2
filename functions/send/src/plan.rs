//! What fn-send does with one effect, decided without servers. From where the effect stands
//! when fn-send comes to it (done, gone, held by another copy, behind an earlier message of
//! its chat, ours) and from what Telegram answered (a message, a 429, a 5xx or a timeout, a
//! blocked user, "message is not modified", a refusal, a forgotten file id) to what is stored
//! and whether the send waits, is tried again, paused, dropped or apologised for.
//! `deliver.rs` gathers the facts (claim, pace, call), asks here at each step, and
//! carries the answer out; the tests are the whole table.

use std::time::Duration;

use runtime::effects::{EDIT_OF, OR_SEND};
use runtime::telegram::TgError;
use serde_json::Value;
use uuid::Uuid;

use crate::store::Effect;

/// The longest wait between two tries of a failing send: when Telegram is back, an answer
/// goes out within this.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The longest a waiting effect goes without being looked at (a long pause is waited out in
/// steps), so the sweeper never mistakes it for one whose job was lost.
pub const LOOK_AGAIN: Duration = Duration::from_secs(30);

/// How long an erasure's final message waits for the chat's earlier sends.
pub const EARLIER_FIRST: Duration = Duration::from_millis(200);

/// Back-off after the n-th failed try (1-based): 1 s, 2 s, 4 s … capped at [`MAX_BACKOFF`].
pub fn send_backoff(tries: i32) -> Duration {
    let exp = (tries.clamp(1, 16) - 1) as u32;
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

/// An effect the claim did not take, as its row reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `pending`, `sent` or `failed`.
    pub state: String,
    /// Seconds left on the lease another sender holds, if any.
    pub lease_left_s: Option<f64>,
    /// Seconds left on its chat's pause, if any.
    pub paused_s: Option<f64>,
    /// Its chat.
    pub chat_id: i64,
    /// The erasure it ends, while that is not finished.
    pub erasure: Option<Uuid>,
}

/// What becomes of an effect the claim did not take.
#[derive(Debug, Clone, PartialEq)]
pub enum Unclaimed {
    /// Nothing: it was sent, failed for good, or is gone.
    Nothing,
    /// It is done with, but the erasure it ends is not (a step failed): finish the erasure.
    FinishErasure {
        /// The erased chat.
        chat_id: i64,
        /// The erasure.
        erasure: Uuid,
    },
    /// Not its turn: look again after at least `floor`, less often the longer it waits.
    LookAgain {
        /// The shortest wait.
        floor: Duration,
        /// Why it waits.
        why: &'static str,
    },
}

/// Why the claim of an effect found it not ours (`None`: no such row, erased with its chat).
pub fn unclaimed(row: Option<Row>) -> Unclaimed {
    let Some(row) = row else {
        return Unclaimed::Nothing;
    };
    if row.state != "pending" {
        return match row.erasure {
            Some(erasure) => Unclaimed::FinishErasure {
                chat_id: row.chat_id,
                erasure,
            },
            None => Unclaimed::Nothing,
        };
    }
    match row.lease_left_s {
        Some(left) if left > 0.0 => Unclaimed::LookAgain {
            floor: Duration::from_secs_f64(left.min(30.0)) + Duration::from_millis(50),
            why: "another sender holds it",
        },
        // Behind an earlier message, which waits at least as long as its chat is paused, so a
        // parked chat is not polled in vain; a long pause is looked at again every half minute
        // (the look keeps it touched).
        _ => Unclaimed::LookAgain {
            floor: Duration::from_secs_f64(row.paused_s.unwrap_or(0.0).clamp(0.25, 30.0)),
            why: "an earlier message goes first",
        },
    }
}

/// What the plan needs to know of an effect that is ours to send.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// A message the user sees (paced in its chat, and ordered).
    pub visible: bool,
    /// Itself a failure notice: its own failure is told to nobody.
    pub notice: bool,
    /// The final message of an erasure while earlier sends of its chat are pending.
    pub earlier_first: bool,
    /// A streaming step whose answer's final text is already written.
    pub superseded: bool,
    /// The user blocked the bot or the chat is gone.
    pub unreachable: bool,
    /// How long to wait for its chat's send slot (for one the user does not see: for a
    /// bot-wide pause); zero: go.
    pub chat_wait: Duration,
    /// A passing step of a streamed answer (an edit that is not the final text).
    pub passing_step: bool,
    /// A final text that goes out as a new message when its message cannot be edited.
    pub or_send: bool,
    /// It uploads its file, rather than naming one Telegram keeps.
    pub uploads: bool,
    /// How long it has been failing for passing reasons (since its first failed try).
    pub failing: Duration,
}

impl Facts {
    /// The facts of claimed effect `e`; `earlier_first` as [`Facts::earlier_first`].
    pub fn of(e: &Effect, earlier_first: bool) -> Self {
        let failing = e.failing_s.unwrap_or(0.0).max(0.0);
        Self {
            visible: e.visible,
            notice: e.notice,
            earlier_first,
            superseded: e.superseded,
            unreachable: e.unreachable,
            chat_wait: Duration::from_millis(e.wait_ms.max(0) as u64),
            passing_step: e.params.get(EDIT_OF).is_some() && e.params[OR_SEND] != true,
            or_send: e.params.get(OR_SEND) == Some(&Value::Bool(true)),
            uploads: e.blob.is_some(),
            failing: Duration::try_from_secs_f64(failing).unwrap_or(Duration::MAX),
        }
    }
}

/// What becomes of an effect that is ours (its lease held until the plan is carried out).
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Not a failure: give the lease back and wait `wait` (its turn, its pace).
    Wait {
        /// Why it waits.
        why: &'static str,
        /// How long.
        wait: Duration,
    },
    /// A streaming step nobody will see: recorded as sent, with nothing.
    Drop(Stale),
    /// Recorded as sent with Telegram's answer (`Null`: there was nothing to change).
    Sent(Value),
    /// Recorded as failed for good, with why; the [`Failure`] says what else.
    Fail(String, Failure),
    /// The chat cannot be written to: it is marked so, and every pending send to it dropped.
    Unreachable(String),
    /// Telegram's flood wait (429): the chat is paused for `pause`, the lease given back, and
    /// the effect looked at again after `wait`.
    Pause {
        /// As long as Telegram said.
        pause: Duration,
        /// It is paced in its chat (a message the user sees): when its chat was within its
        /// limits, the flood wait is the whole bot's, and the bot is paused too. A callback
        /// answer or a bot setting has no chat pace to be within.
        chat_paced: bool,
        /// The look again (at most [`LOOK_AGAIN`]).
        wait: Duration,
    },
    /// A passing failure: the try counted with why, the lease given back, and tried again
    /// after [`send_backoff`] of the tries so far.
    Retry(String),
}

/// Why a streaming step is dropped unsent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// The final text exists and carries it (it must be the last thing the user sees).
    Superseded,
    /// The message it edits never went out; the final text follows.
    NeverSent,
}

/// What a failure for good brings besides the failed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The user blocked the bot earlier: nothing is sent, nobody told.
    UserGone,
    /// A streaming step Telegram refused: the final text carries it.
    StepRefused,
    /// A streaming step Telegram could not take now: the final text follows.
    StepDropped,
    /// Logged as an error; `sorry`: the user was waiting for it and is told.
    ForGood {
        /// Say sorry in the chat.
        sorry: bool,
    },
}

/// Before any call: what stands in the way of sending effect `f` (`None`: nothing; its
/// bot-wide pace is next).
pub fn before_call(f: &Facts) -> Option<Plan> {
    if f.earlier_first {
        return Some(Plan::Wait {
            why: "the erased chat's earlier sends go first",
            wait: EARLIER_FIRST,
        });
    }
    if f.superseded {
        return Some(Plan::Drop(Stale::Superseded));
    }
    if f.unreachable {
        let why = "the user cannot be reached".to_owned();
        return Some(Plan::Fail(why, Failure::UserGone));
    }
    (!f.chat_wait.is_zero()).then(|| paced(f.chat_wait))
}

/// A send that must wait `wait` for its pace (its chat's, or a bot-wide one).
pub fn paced(wait: Duration) -> Plan {
    Plan::Wait {
        why: "paced",
        wait: wait.min(LOOK_AGAIN),
    }
}

/// A second call that may still land what Telegram refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// A final text whose message cannot be edited (deleted by the user, too old): sent as a
    /// new message.
    SendAnew,
    /// A photo by a file id Telegram does not know (any more): sent by the persona's current
    /// file id, or uploaded again.
    UploadAgain,
}

/// Whether Telegram's first answer to `method` calls for a [`Fallback`].
pub fn fallback(method: &str, f: &Facts, answer: &Result<Value, TgError>) -> Option<Fallback> {
    let Err(TgError::Permanent(why)) = answer else {
        return None;
    };
    match method {
        "editMessageText" if f.or_send => Some(Fallback::SendAnew),
        "sendPhoto" if !f.uploads && unknown_file(why) => Some(Fallback::UploadAgain),
        _ => None,
    }
}

/// Whether Telegram refused a file id it does not know (any more): after a bot-token change,
/// a move to another bot, or a fresh stand-in.
pub fn unknown_file(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    why.contains("file identifier") || why.contains("file_id") || why.contains("file reference")
}

/// After the call: what Telegram's `answer` means for effect `f`. A passing failure is tried
/// again until the effect has been failing for `give_up_after` (`SEND_GIVE_UP_SECS`), but a
/// streaming step is dropped at once: the final text makes it stale anyway.
pub fn answered(answer: Result<Value, TgError>, f: &Facts, give_up_after: Duration) -> Plan {
    let for_good = Failure::ForGood {
        sorry: f.visible && !f.notice,
    };
    match answer {
        Ok(result) => Plan::Sent(result),
        Err(TgError::NotModified) => Plan::Sent(Value::Null),
        Err(TgError::RetryAfter(d)) => Plan::Pause {
            pause: d,
            chat_paced: f.visible,
            wait: d.min(LOOK_AGAIN),
        },
        Err(TgError::Unreachable(why)) => Plan::Unreachable(why),
        Err(TgError::Transient(why)) if f.passing_step => Plan::Fail(why, Failure::StepDropped),
        Err(TgError::Transient(why)) if f.failing >= give_up_after => Plan::Fail(why, for_good),
        Err(TgError::Transient(why)) => Plan::Retry(why),
        Err(TgError::Permanent(why)) if f.passing_step => Plan::Fail(why, Failure::StepRefused),
        Err(TgError::Permanent(why)) => Plan::Fail(why, for_good),
    }
}

#[cfg(test)]
mod tests;
