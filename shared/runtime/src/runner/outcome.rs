//! What becomes of a message, decided without servers. A handler's result (done, deferred,
//! failed for now, refused), the message's delivery count and the consumer's max deliver give
//! a [`Verdict`]: an [`Outcome`] at once, or giving up (a dead letter, then dropped — or kept
//! for a retry while the dead letter cannot be stored). An outcome is carried out as a
//! JetStream acknowledgement ([`Outcome::ack`]: ack, nak with a delay, term; a deferral is
//! parked by [`super::hold`] first) or as an HTTP answer ([`Outcome::reply`]). The async
//! runners only carry these answers out; the tests are the table.

use std::time::Duration;

use async_nats::jetstream::AckKind;
use axum::http::StatusCode;

use crate::error::{HandlerError, backoff};

/// What the runner does with the message after the stage ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Effects committed: acknowledge.
    Done,
    /// A failed try: deliver again after the delay.
    Retry(Duration),
    /// Not a failure: run again after the delay (the message stays held, its slot freed).
    Defer(Duration),
    /// Given up, recorded as a dead letter: terminate.
    Dropped,
}

/// What a handler's run came to, as far as the runner is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// It returned `Ok`: its effects are committed.
    Finished,
    /// Not a failure: the job waits its turn this long.
    Deferred(Duration),
    /// A failed try (a panic counts as one), to be tried again when it said, if it said.
    Failed(Option<Duration>),
    /// Retrying cannot help.
    Refused,
}

impl Ran {
    /// The kind of a handler's result.
    pub fn of(result: &Result<(), HandlerError>) -> Self {
        match result {
            Ok(()) => Self::Finished,
            Err(HandlerError::Defer { delay, .. }) => Self::Deferred(*delay),
            Err(HandlerError::Transient { retry_after, .. }) => Self::Failed(*retry_after),
            Err(HandlerError::Permanent { .. }) => Self::Refused,
        }
    }
}

/// What the runner does after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Settle the message so.
    Settle(Outcome),
    /// Give up: record a dead letter, tell the user, then [`given_up`].
    GiveUp,
}

/// What a run that came to `ran` on the `delivered`-th delivery (1-based) means, when a
/// message may be delivered `max_deliver` times. A deferral never uses up a delivery; a failed
/// try is retried when it said, or after the runner's back-off, until the last delivery.
pub fn verdict(ran: Ran, delivered: i64, max_deliver: i64) -> Verdict {
    match ran {
        Ran::Finished => Verdict::Settle(Outcome::Done),
        Ran::Deferred(delay) => Verdict::Settle(Outcome::Defer(delay)),
        Ran::Failed(retry_after) if delivered < max_deliver => Verdict::Settle(Outcome::Retry(
            retry_after.unwrap_or_else(|| backoff(delivered)),
        )),
        Ran::Failed(_) | Ran::Refused => Verdict::GiveUp,
    }
}

/// A message given up on its `delivered`-th delivery: dropped once its dead letter is
/// `recorded`; kept for a retry while it is not, rather than lost.
pub fn given_up(recorded: bool, delivered: i64) -> Outcome {
    match recorded {
        true => Outcome::Dropped,
        false => Outcome::Retry(backoff(delivered)),
    }
}

/// How the HTTP runner answers an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The body.
    pub body: &'static str,
    /// `Retry-After`, in whole seconds (at least one).
    pub retry_after_s: Option<u64>,
    /// `X-Companion-Defer`: not a failure, the caller keeps the delivery count.
    pub defer: bool,
}

impl Outcome {
    /// The JetStream acknowledgement that carries it out. A deferral reaches this only when
    /// the runner stops while the message is parked ([`super::hold`] parks it otherwise) or
    /// from a bridge: handed back with its delay.
    pub fn ack(self) -> AckKind {
        match self {
            Self::Done => AckKind::Ack,
            Self::Retry(delay) | Self::Defer(delay) => AckKind::Nak(Some(delay)),
            Self::Dropped => AckKind::Term,
        }
    }

    /// The HTTP answer that carries it out: 200 ack, 503 + `Retry-After` retry (with the defer
    /// header when it waits its turn rather than failed), 422 dropped and recorded.
    pub fn reply(self) -> Reply {
        let retry = |delay: Duration, defer| Reply {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: "retry",
            retry_after_s: Some(delay.as_secs().max(1)),
            defer,
        };
        let plain = |status, body| Reply {
            status,
            body,
            retry_after_s: None,
            defer: false,
        };
        match self {
            Self::Done => plain(StatusCode::OK, "done"),
            Self::Retry(delay) => retry(delay, false),
            Self::Defer(delay) => retry(delay, true),
            Self::Dropped => plain(StatusCode::UNPROCESSABLE_ENTITY, "dropped"),
        }
    }

    /// Its `outcome` label on `companion_messages_total`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Done => "ack",
            Self::Retry(_) => "nak",
            Self::Defer(_) => "defer",
            Self::Dropped => "dead",
        }
    }
}

#[cfg(test)]
mod tests;
