//! The container runner: a JetStream durable pull-consumer loop that holds only what it works
//! on. It pulls exactly as many messages as it has free slots (a batch request per round, so
//! no message waits in a client buffer while its ack wait runs out), keeps every held message
//! alive with progress acks, acks only after the stage returned `Ok` (its effects committed),
//! naks with a delay after a failed try, and terminates what it gave up on. A deferred message
//! (waiting its turn, not failing) gives its slot back while it waits and keeps its delivery
//! count, and runs again when the delay is over. On SIGTERM the loop stops pulling, hands
//! parked messages back, and waits for the rest. The pull loop and the holding of a message
//! are public: fn-bridge drives HTTP functions with them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{self, AckKind, Message};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use super::bounds::{Admission, admission};
use super::hold::{Held, hold, settle};
use super::order::{Chains, Order};
use super::{Core, Outcome, Place, Stage};
use crate::envelope::{SCHEMA_HEADER, is_newer};
use crate::nats::topology::{TopologyError, ensure_consumer};
use crate::shutdown;
use crate::telemetry::hops;

/// How long one pull request waits for messages before it is renewed.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
/// Largest batch asked for in one pull request.
const MAX_BATCH: usize = 256;

struct Shared<S: Stage> {
    core: Arc<Core<S>>,
    slots: Arc<Semaphore>,
    ack_wait: Duration,
    stopping: watch::Receiver<bool>,
}

/// Runs the stage until SIGTERM/SIGINT with `concurrency` slots.
pub async fn run_consumer<S: Stage>(
    core: Arc<Core<S>>,
    js: jetstream::Context,
    ack_wait: Duration,
    concurrency: usize,
) -> Result<(), TopologyError> {
    let consumer = ensure_consumer(&js, &S::SPEC, ack_wait).await?;
    crate::ops::set_bound();
    let (stop_tx, stopping) = watch::channel(false);
    let shared = Arc::new(Shared {
        core,
        slots: Arc::new(Semaphore::new(concurrency)),
        ack_wait,
        stopping,
    });
    // The series exists (at 0) before anything is parked, for dashboards.
    metrics::gauge!("companion_parked", "stage" => S::SPEC.name).set(0.0);
    tracing::info!(
        stage = S::SPEC.name,
        subject = S::SPEC.subject,
        concurrency,
        "ready: consuming"
    );
    let slots = shared.slots.clone();
    let tasks = pull_until(
        &consumer,
        slots,
        S::order_key,
        shutdown::signal(),
        |msg, permit, before| {
            let shared = shared.clone();
            async move { handle_one(&shared, msg, permit, before).await }
        },
    )
    .await;
    let _ = stop_tx.send(true);
    drain(tasks, &js).await;
    Ok(())
}

/// Pulls as many messages as there are free `slots` (a batch request per round) and hands
/// each, with its slot and its place in its key's chain (messages sharing an `order_key` go
/// one after the other; see [`hold`]), to `handle` on its own task, until `stop` resolves.
/// Returns the tasks still running.
pub async fn pull_until<F, Fut>(
    consumer: &PullConsumer,
    slots: Arc<Semaphore>,
    order_key: fn(&[u8]) -> Option<Order>,
    stop: impl Future<Output = ()>,
    handle: F,
) -> JoinSet<()>
where
    F: Fn(Message, OwnedSemaphorePermit, Place) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let chains = Arc::new(Chains::default());
    let mut tasks = JoinSet::new();
    tokio::pin!(stop);
    'outer: loop {
        let first = tokio::select! {
            _ = &mut stop => break 'outer,
            p = slots.clone().acquire_owned() => p.expect("semaphore is never closed"),
        };
        let mut permits = vec![first];
        while permits.len() < MAX_BATCH {
            match slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        let batch = consumer
            .batch()
            .max_messages(permits.len())
            .expires(PULL_EXPIRES)
            .messages()
            .await;
        let mut messages = match batch {
            Ok(m) => m,
            Err(e) => {
                drop(permits);
                tracing::warn!(error = %e, "cannot pull; retrying");
                tokio::select! {
                    _ = &mut stop => break 'outer,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let next = tokio::select! {
                _ = &mut stop => break 'outer,
                n = messages.next() => n,
            };
            match next {
                Some(Ok(msg)) => {
                    let Some(permit) = permits.pop() else {
                        // The server never sends more than asked; if it did, let it redeliver.
                        let _ = msg.ack_with(AckKind::Nak(None)).await;
                        continue;
                    };
                    let place = chains.place(order_key(&msg.payload));
                    tasks.spawn(handle(msg, permit, place));
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "pull batch ended early");
                    break;
                }
                None => break,
            }
        }
        while tasks.try_join_next().is_some() {}
    }
    tasks
}

/// Waits for `tasks`, then pushes buffered acks out (without waiting forever for a broker
/// that is gone).
pub async fn drain(mut tasks: JoinSet<()>, js: &jetstream::Context) {
    tracing::info!(in_flight = tasks.len(), "draining");
    while tasks.join_next().await.is_some() {}
    match tokio::time::timeout(Duration::from_secs(3), js.client().flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "final flush failed"),
        Err(_) => tracing::warn!("final flush timed out; unacked messages will be redelivered"),
    }
    tracing::info!("stopped");
}

async fn handle_one<S: Stage>(
    shared: &Shared<S>,
    msg: Message,
    permit: OwnedSemaphorePermit,
    place: Place,
) {
    let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
    let published = header(&msg, hops::PUBLISHED_HEADER);
    let arrival = hops::Arrival::new(S::SPEC.name, delivered, published);
    let subject = msg.subject.to_string();
    let schema = header(&msg, SCHEMA_HEADER);
    match admission(delivered, is_newer(schema)) {
        Admission::Handle => {}
        Admission::Refuse(reason) => {
            drop(permit);
            let outcome = shared
                .core
                .refuse(&subject, &msg.payload, delivered, &reason)
                .await;
            settle(&msg, outcome).await;
            return;
        }
        Admission::GiveBack(delay) => {
            // Written by a newer build (a rolling deploy): a newer copy takes it.
            tracing::warn!(subject, schema = ?schema, "message from a newer build; given back");
            metrics::counter!("companion_messages_total", "stage" => S::SPEC.name, "outcome" => "newer")
                .increment(1);
            drop(permit);
            if let Err(e) = msg.ack_with(Outcome::Retry(delay).ack()).await {
                tracing::warn!(error = %e, "nak failed");
            }
            return;
        }
    }
    let core = &shared.core;
    let held = Held {
        stage: S::SPEC.name,
        ack_wait: shared.ack_wait,
        stopping: &shared.stopping,
    };
    let outcome = hold(&msg, held, permit, place, |first| {
        core.process(&subject, &msg.payload, delivered, first)
    })
    .await;
    settle(&msg, outcome).await;
    arrival.settled();
}

fn header<'m>(msg: &'m Message, name: &str) -> Option<&'m str> {
    msg.headers.as_ref()?.get(name).map(|v| v.as_str())
}
