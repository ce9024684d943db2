//! Holding a message while its stage works on it: progress acks so no other copy gets it,
//! waiting for its turn in its key's chain without a slot, parking when the stage defers it,
//! and settling it (ack, nak with a delay, term) as the outcome says.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream::{AckKind, Message};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;

use super::Outcome;
use super::order::Place;
use crate::telemetry::hops;

/// Runs `attempt` (first with `true`) while keeping `msg` alive, until it returns something
/// other than a deferral. A message waiting for its turn among its key's messages (`place`)
/// waits without its slot, so one busy chat never holds more than one of a copy's slots. A
/// deferred message is parked: its slot goes back while it waits (first in line, it keeps its
/// key's later messages waiting; an older one that arrives meanwhile goes), and it runs again
/// when its turn comes back, without taking a slot (the pull loop may hold every free one for
/// an open batch): what runs again was admitted once, and held messages are bounded by the
/// consumer's max_ack_pending. When the runner stops, a parked message is handed back.
/// Parked messages are counted in `companion_parked{stage}` (for fn-send: sends waiting for
/// the pace of their chat or the bot, or out a 429).
pub async fn hold<F, Fut>(
    msg: &Message,
    held: Held<'_>,
    permit: OwnedSemaphorePermit,
    mut place: Place,
    mut attempt: F,
) -> Outcome
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let mut first = true;
    let mut permit = Some(permit);
    // One clock for the whole hold: however short each wait and try, the message is acked
    // as progressing at a third of the ack wait (a fresh ticker per step never fired for
    // steps shorter than that, and a parked message was redelivered while still held).
    let mut acked = Instant::now();
    let ack_wait = held.ack_wait;
    if place.waits() {
        permit = None;
        let waited = std::time::Instant::now();
        alive_since(msg, ack_wait, &mut acked, place.ready()).await;
        hops::record(held.stage, "turn", waited.elapsed());
    }
    let outcome = loop {
        // Boxed: a message waiting for its turn (thousands may, for one busy chat) then
        // carries only a pointer, not the room the stage's whole handling needs.
        let work = Box::pin(attempt(first));
        first = false;
        match alive_since(msg, ack_wait, &mut acked, work).await {
            Outcome::Defer(delay) => {
                permit = None;
                place.park();
                let mut stopping = held.stopping.clone();
                let parked = async {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => false,
                        _ = stopping.wait_for(|s| *s) => true,
                    }
                };
                let gauge = metrics::gauge!("companion_parked", "stage" => held.stage);
                gauge.increment(1.0);
                let since = std::time::Instant::now();
                let stopped = alive_since(msg, ack_wait, &mut acked, parked).await;
                gauge.decrement(1.0);
                hops::record(held.stage, "parked", since.elapsed());
                if stopped {
                    break Outcome::Retry(delay);
                }
                place.resume();
                if place.waits() {
                    let waited = std::time::Instant::now();
                    alive_since(msg, ack_wait, &mut acked, place.ready()).await;
                    hops::record(held.stage, "turn", waited.elapsed());
                }
            }
            other => break other,
        }
    };
    drop((permit, place));
    outcome
}

/// What [`hold`] needs of its runner.
#[derive(Clone, Copy)]
pub struct Held<'a> {
    /// The stage (metrics label).
    pub stage: &'static str,
    /// The consumer's ack wait (progress acks go at a third of it).
    pub ack_wait: Duration,
    /// Becomes true when the runner stops.
    pub stopping: &'a watch::Receiver<bool>,
}

/// Acks, naks (with the delay) or terminates `msg` as `outcome` says ([`Outcome::ack`]).
pub async fn settle(msg: &Message, outcome: Outcome) {
    if let Err(e) = msg.ack_with(outcome.ack()).await {
        // The message will be redelivered; its effects are keyed, so nothing doubles.
        tracing::warn!(error = %e, "ack failed");
    }
}

/// Runs `work` while sending progress acks at a third of the ack wait, so a held message is
/// never redelivered to another copy while this one has it.
pub async fn alive<T>(msg: &Message, ack_wait: Duration, work: impl Future<Output = T>) -> T {
    alive_since(msg, ack_wait, &mut Instant::now(), work).await
}

/// [`alive`] for one step of a longer hold: the next progress ack is due a third of the ack
/// wait after `acked` (the last one, or the delivery), which it moves on.
pub async fn alive_since<T>(
    msg: &Message,
    ack_wait: Duration,
    acked: &mut Instant,
    work: impl Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let period = ack_wait / 3;
    loop {
        tokio::select! {
            o = &mut work => return o,
            _ = tokio::time::sleep_until(*acked + period) => {
                *acked = Instant::now();
                if let Err(e) = msg.ack_with(AckKind::Progress).await {
                    tracing::debug!(error = %e, "progress ack failed");
                }
            }
        }
    }
}
