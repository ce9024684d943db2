//! A chat's updates in arrival order across every copy, without a deadlock and without a
//! chat frozen for good. An update waits (parked) while an older update of its chat is still
//! in the stream; the wait grows with how long that older one has been waiting. An older
//! update stuck for `ORDER_GIVE_UP_SECS` (a copy that crash-loops on it, a delivery limit the
//! broker reached) is given up: recorded as a dead letter, its id claimed so it can never
//! take effect later, the user told, and it is removed from the stream so the chat goes on.

use std::time::Duration;

use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::{DirectGetErrorKind, Stream};
use shared::HandlerError;
use shared::app::Deps;
use shared::deadletter::{self, DeadLetter};
use shared::effects::Decision;
use shared::envelope::JobInfo;
use shared::locale::{T, t};
use shared::topology::{UPDATES_STAGE, update_subject};

use crate::route::TgUpdate;

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

/// Looks at the oldest update of `chat` still in the stream (handled updates leave the work
/// queue); gives it up when it is older than `update_id` and stuck for `give_up`.
pub async fn before(
    stream: &Stream,
    deps: &Deps,
    chat: i64,
    update_id: i64,
    give_up: Duration,
) -> Result<Before, HandlerError> {
    // At most twice: once more after a stuck update was taken out of the way.
    for _ in 0..2 {
        let first = match stream
            .direct_get_first_for_subject(update_subject(chat))
            .await
        {
            Ok(first) => first,
            Err(e) if e.kind() == DirectGetErrorKind::NotFound => return Ok(Before::Nothing),
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
            return Ok(Before::Nothing);
        }
        let waited = waited(&first);
        if waited < give_up {
            return Ok(Before::Older((waited / 10).clamp(POLL_MIN, POLL_MAX)));
        }
        skip(stream, deps, &first, waited).await?;
    }
    Ok(Before::Older(POLL_MIN))
}

/// How long `m` has been in the stream.
fn waited(m: &StreamMessage) -> Duration {
    let now = time_now();
    let then = m.time.unix_timestamp_nanos();
    Duration::from_nanos(u64::try_from(now - then).unwrap_or(0))
}

fn time_now() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// Gives up on stuck update `m`: claims its id (so a copy that still holds it does nothing
/// with it), records it as a dead letter and tells the user in the same transaction, then
/// removes it from the stream.
async fn skip(
    stream: &Stream,
    deps: &Deps,
    m: &StreamMessage,
    waited: Duration,
) -> Result<(), HandlerError> {
    let update = TgUpdate::decode(&m.payload).ok();
    let update_id = serde_json::from_slice::<serde_json::Value>(&m.payload)
        .ok()
        .and_then(|v| v["update_id"].as_i64());
    let chat = update.as_ref().and_then(|u| u.chat_id());
    let reason = format!(
        "waited {}s, longer than ORDER_GIVE_UP_SECS, unhandled; later updates of the chat went on",
        waited.as_secs()
    );
    tracing::error!(update_id, chat_id = chat, %reason, "giving up on a stuck update");
    let mut tx = deps.pool.begin().await?;
    let claimed =
        sqlx::query("INSERT INTO processed_updates (update_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(update_id.unwrap_or(-1))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
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
    stream
        .delete_message(m.sequence)
        .await
        .map_err(|e| HandlerError::transient(format!("removing a stuck update: {e}")))?;
    Ok(())
}
