//! The message envelope carried between stages, what a runner reads of any job without
//! knowing its stage, the send job every stage hands to fn-send, and the schema version a
//! message is stamped with. The payloads of the bot's other jobs live with the bot
//! (the companion crate's `jobs`).
//!
//! The envelope's `id` is the job id: it keys the job status in KV, the `Nats-Msg-Id` of the
//! publish, and the rows a stage writes, so a redelivered job never doubles an effect.

use async_nats::jetstream::message::PublishMessage;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A job travelling between stages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope<T> {
    /// Job id, stable across redeliveries.
    pub id: Uuid,
    /// Followed through every stage's log lines (`upd-<update_id>` for user-started work).
    pub trace_id: String,
    /// The stage-specific job.
    pub payload: T,
}

impl<T> Envelope<T> {
    /// Wraps a payload with a fresh id.
    pub fn new(trace_id: impl Into<String>, payload: T) -> Self {
        Self {
            id: Uuid::new_v4(),
            trace_id: trace_id.into(),
            payload,
        }
    }
}

/// Bot API calls for fn-send: effects already committed (sent in this order, each once), or
/// a chat action that is never stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SendJob {
    /// The chat the effects go to.
    pub chat_id: i64,
    /// Ids of rows in `effects`, in send order.
    #[serde(default)]
    pub effects: Vec<Uuid>,
    /// A job that is COMPLETED once these effects are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completes: Option<Uuid>,
    /// A chat action (`typing`, `upload_photo`): best effort, not an effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When the chat action was asked for (Unix ms): one that waited too long is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_at_ms: Option<i64>,
}

/// Job ids and chat ids a runner can read without knowing the stage.
pub trait JobInfo {
    /// The job id, when the message is a job.
    fn job_id(&self) -> Option<Uuid> {
        None
    }
    /// The chat to tell when the work fails for good.
    fn chat_id(&self) -> Option<i64> {
        None
    }
    /// The trace id for log lines.
    fn trace_id(&self) -> String {
        String::new()
    }
}

/// A job's payload: the chat its failure is told in, if any. Its envelope is then a job
/// whose status is tracked under the envelope's id.
pub trait Payload {
    /// The chat to tell when the work fails for good (`None`: work nobody waits for).
    fn chat_id(&self) -> Option<i64>;
}

impl<T: Payload> JobInfo for Envelope<T> {
    fn job_id(&self) -> Option<Uuid> {
        Some(self.id)
    }
    fn chat_id(&self) -> Option<i64> {
        self.payload.chat_id()
    }
    fn trace_id(&self) -> String {
        self.trace_id.clone()
    }
}

/// Send jobs have no status of their own: they complete the job named in `completes`.
impl JobInfo for Envelope<SendJob> {
    fn chat_id(&self) -> Option<i64> {
        Some(self.payload.chat_id)
    }
    fn trace_id(&self) -> String {
        self.trace_id.clone()
    }
}

/// The version of the message formats this build writes and understands. Every publish
/// carries it in [`SCHEMA_HEADER`]; during a rolling deploy, a function that meets a higher
/// one (written by a newer build) gives the message back with a delay so that a newer copy
/// takes it, instead of failing on it. Raise it when a change is not backward compatible.
pub const SCHEMA_VERSION: u32 = 1;
/// The header (on NATS messages and on `/invoke` requests) carrying the schema version.
pub const SCHEMA_HEADER: &str = "Companion-Schema";
/// How long a message from a newer build waits before it is offered again.
pub const NEWER_SCHEMA_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

/// A publish of `payload` stamped with this build's schema version and the time it is
/// published ([`crate::telemetry::hops::PUBLISHED_HEADER`], for the next stage's queue wait).
pub fn stamped(payload: bytes::Bytes) -> PublishMessage {
    schema_only(payload).header(
        crate::telemetry::hops::PUBLISHED_HEADER,
        crate::telemetry::hops::published_now().as_str(),
    )
}

/// A publish of `payload` stamped with the schema version only: for a message published
/// later than now (a schedule), whose wait is not a queue's.
pub fn schema_only(payload: bytes::Bytes) -> PublishMessage {
    PublishMessage::build()
        .payload(payload)
        .header(SCHEMA_HEADER, SCHEMA_VERSION.to_string().as_str())
}

/// Whether a message stamped `header` (none: written before versions, 1) is from a newer
/// build than this one.
pub fn is_newer(header: Option<&str>) -> bool {
    header
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_some_and(|v| v > SCHEMA_VERSION)
}

/// Finds a chat id in an arbitrary payload (a job or a Telegram update) that failed to
/// decode, so the user can still be told something went wrong.
pub fn guess_chat_id(payload: &[u8]) -> Option<i64> {
    chat_in(&serde_json::from_slice(payload).ok()?)
}

/// The chat and the update id of a raw Telegram update (an update without an id ranks last).
pub fn update_order(payload: &[u8]) -> Option<(i64, i64)> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    Some((chat_in(&v)?, v["update_id"].as_i64().unwrap_or(i64::MAX)))
}

fn chat_in(v: &serde_json::Value) -> Option<i64> {
    let paths: [&[&str]; 5] = [
        &["payload", "chat_id"],
        &["message", "chat", "id"],
        &["edited_message", "chat", "id"],
        &["callback_query", "message", "chat", "id"],
        &["callback_query", "from", "id"],
    ];
    paths
        .iter()
        .find_map(|path| path.iter().try_fold(v, |v, k| v.get(k))?.as_i64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips() {
        let e = Envelope::new(
            "upd-1",
            SendJob {
                chat_id: 1,
                effects: vec![Uuid::new_v4()],
                completes: Some(Uuid::new_v4()),
                ..Default::default()
            },
        );
        let back: Envelope<SendJob> =
            serde_json::from_slice(&serde_json::to_vec(&e).unwrap()).unwrap();
        assert_eq!(e, back);
        assert_eq!(back.chat_id(), Some(1));
        assert_eq!(back.job_id(), None, "send jobs complete another job");
    }

    #[test]
    fn chat_ids_are_found_in_jobs_and_updates() {
        assert_eq!(guess_chat_id(br#"{"payload":{"chat_id":7}}"#), Some(7));
        assert_eq!(
            guess_chat_id(br#"{"update_id":1,"message":{"chat":{"id":9}}}"#),
            Some(9)
        );
        assert_eq!(
            guess_chat_id(br#"{"callback_query":{"from":{"id":5}}}"#),
            Some(5)
        );
        assert_eq!(guess_chat_id(b"not json"), None);
    }
}
