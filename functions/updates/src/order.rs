//! A chat's updates in arrival order across every copy, without a deadlock and without a
//! chat frozen for good. An update waits (parked) while an older update of its chat is still
//! in the stream; the wait grows with how long that older one has been the chat's oldest. One
//! that has been the oldest for `ORDER_GIVE_UP_SECS` — as this copy saw it: not since it was
//! stored, so updates that only queued behind a stuck one get their own full time — is given
//! up (a copy that hangs or crash-loops on it, a build that cannot read it): recorded as a
//! dead letter, its id claimed so it can never take effect later, the user told, and it is
//! removed from the stream so the chat goes on. One at a time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::{DirectGetErrorKind, Stream};
use companion::locale::{T, t};
use runtime::HandlerError;
use runtime::app::Deps;
use runtime::effects::Decision;
use runtime::envelope::JobInfo;
use runtime::nats::topology::{UPDATES_STAGE, update_subject};
use runtime::pg::deadletter::{self, DeadLetter};
use runtime::telemetry::hops::{self, Part};

use crate::route::TgUpdate;
use crate::store::updates;

/// The shortest and the longest wait before an update looks again at the older one.
const POLL_MIN: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);

/// What stands before an update.
pub enum Before {
    /// Nothing: it may go.
    Nothing,
    /// An older update of the chat, still in the stream: look again after this long.
    Older(Duration),
}

/// Since when this copy has seen each chat's oldest update (by stream sequence) as the
/// oldest, for the chats whose updates wait.
#[derive(Default)]
pub struct Heads(Mutex<HashMap<i64, (u64, Instant)>>);

impl Heads {
    /// How long `seq` has been `chat`'s oldest, as this copy saw it.
    fn oldest_for(&self, chat: i64, seq: u64) -> Duration {
        let mut m = self.0.lock().expect("heads lock");
        if m.len() > 100_000 {
            m.clear();
        }
        let (head, since) = m.entry(chat).or_insert((seq, Instant::now()));
        if *head != seq {
            (*head, *since) = (seq, Instant::now());
        }
        since.elapsed()
    }

    fn clear(&self, chat: i64) {
        self.0.lock().expect("heads lock").remove(&chat);
    }
}

/// Looks at the oldest update of `chat` still in the stream (handled updates leave the work
/// queue); gives it up when it is older than `update_id` and has been the oldest for
/// `give_up`.
pub async fn before(
    ctx: (&Stream, &Heads, &Deps),
    chat: i64,
    update_id: i64,
    give_up: Duration,
) -> Result<Before, HandlerError> {
    let (stream, heads, deps) = ctx;
    let oldest = stream.direct_get_first_for_subject(update_subject(chat));
    let first = match hops::part(Part::Nats, oldest).await {
        Ok(first) => first,
        Err(e) if e.kind() == DirectGetErrorKind::NotFound => {
            heads.clear(chat);
            return Ok(Before::Nothing);
        }
        Err(e) => {
            return Err(HandlerError::transient(format!(
                "reading the chat's updates: {e}"
            )));
        }
    };
    let id = serde_json::from_slice::<serde_json::Value>(&first.payload)
        .ok()
        .and_then(|v| v["update_id"].as_i64());
    if id.is_none_or(|id| id >= update_id) {
        // This update is the oldest: the others' clock on it keeps running.
        return Ok(Before::Nothing);
    }
    let oldest_for = heads.oldest_for(chat, first.sequence);
    if oldest_for < give_up {
        return Ok(Before::Older((oldest_for / 10).clamp(POLL_MIN, POLL_MAX)));
    }
    skip(stream, deps, &first, id, oldest_for).await?;
    heads.clear(chat);
    Ok(Before::Older(POLL_MIN))
}

/// Gives up on stuck update `m`: claims its id (so a copy that still holds it does nothing
/// with it), records it as a dead letter and tells the user in the same transaction, then
/// removes it from the stream.
async fn skip(
    stream: &Stream,
    deps: &Deps,
    m: &StreamMessage,
    update_id: Option<i64>,
    waited: Duration,
) -> Result<(), HandlerError> {
    let update = TgUpdate::decode(&m.payload).ok();
    let chat = update.as_ref().and_then(|u| u.chat_id());
    let reason = format!(
        "the chat's oldest update for {}s (ORDER_GIVE_UP_SECS), unhandled; later updates of the chat went on",
        waited.as_secs()
    );
    tracing::error!(update_id, chat_id = chat, %reason, "giving up on a stuck update");
    let mut tx = deps.pool.begin().await?;
    let claimed = updates::claim(&mut tx, update_id.unwrap_or(-1)).await?;
    let source = format!("stuck-{}", m.sequence);
    let mut notice = Decision::new(
        source,
        update.as_ref().map(|u| u.trace_id()).unwrap_or_default(),
    );
    if claimed || update_id.is_none() {
        let dl = DeadLetter {
            stage: UPDATES_STAGE.name,
            subject: &m.subject,
            payload: &m.payload,
            error: &reason,
            delivered: 0,
            chat_id: chat,
        };
        deadletter::record(&mut tx, &dl).await?;
        if let (Some(chat), Some(u)) = (chat, &update) {
            notice.notice(chat, t(u.lang(), T::Sorry), &[]);
        }
    }
    let committed = notice.commit(tx).await?;
    deps.outbox.publish(committed).await?;
    match stream.delete_message(m.sequence).await {
        Ok(_) => Ok(()),
        // Another waiting update (in this copy or another) removed it first: done.
        Err(e) if e.to_string().contains("no message found") || e.to_string().contains("10057") => {
            Ok(())
        }
        Err(e) => Err(HandlerError::transient(format!(
            "removing a stuck update: {e}"
        ))),
    }
}
