//! The container runner: a JetStream durable pull-consumer loop. Up to `CONCURRENCY`
//! messages are handled at once; each is acked only after its stage returned `Ok` (its
//! effects are committed), nak'ed with a delay on a transient error, and terminated when
//! given up on. While a handler works, the message is kept alive with progress acks so a
//! slow LLM call is not redelivered to another copy. On SIGTERM the loop stops pulling and
//! waits for the messages in flight.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, Message};
use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Core, Outcome, Stage};
use crate::config::CommonSettings;
use crate::shutdown;
use crate::topology::{TopologyError, ensure_consumer};

/// Runs the stage until SIGTERM/SIGINT.
pub async fn run_consumer<S: Stage>(
    core: Arc<Core<S>>,
    js: jetstream::Context,
    settings: &CommonSettings,
) -> Result<(), TopologyError> {
    let consumer = ensure_consumer(&js, &S::SPEC, settings.ack_wait).await?;
    let limit = Arc::new(Semaphore::new(settings.concurrency));
    let mut tasks = JoinSet::new();
    let stop = shutdown::signal();
    tokio::pin!(stop);
    tracing::info!(
        stage = S::SPEC.name,
        subject = S::SPEC.subject,
        "ready: consuming"
    );
    'outer: loop {
        let mut messages = match consumer
            .stream()
            .max_messages_per_batch(settings.concurrency)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
        {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the pull stream; retrying");
                tokio::select! {
                    _ = &mut stop => break 'outer,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let permit = tokio::select! {
                _ = &mut stop => break 'outer,
                p = limit.clone().acquire_owned() => p.expect("semaphore is never closed"),
            };
            let next = tokio::select! {
                _ = &mut stop => break 'outer,
                n = messages.next() => n,
            };
            match next {
                Some(Ok(msg)) => {
                    let core = core.clone();
                    let ack_wait = settings.ack_wait;
                    tasks.spawn(async move {
                        handle_one(&core, msg, ack_wait).await;
                        drop(permit);
                    });
                }
                Some(Err(e)) => tracing::warn!(error = %e, "pull stream error"),
                None => break,
            }
            while tasks.try_join_next().is_some() {}
        }
    }
    let in_flight = tasks.len();
    tracing::info!(in_flight, "draining");
    while tasks.join_next().await.is_some() {}
    // Acks are buffered: push them out, but do not wait forever for a broker that is gone.
    match tokio::time::timeout(Duration::from_secs(3), js.client().flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "final flush failed"),
        Err(_) => tracing::warn!("final flush timed out; unacked messages will be redelivered"),
    }
    tracing::info!("stopped");
    Ok(())
}

async fn handle_one<S: Stage>(core: &Core<S>, msg: Message, ack_wait: Duration) {
    let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
    let subject = msg.subject.to_string();
    let work = core.process(&subject, &msg.payload, delivered);
    tokio::pin!(work);
    // Progress acks at a third of ack_wait keep a long handler's message from redelivery.
    let mut tick = tokio::time::interval(ack_wait / 3);
    tick.tick().await;
    let outcome = loop {
        tokio::select! {
            o = &mut work => break o,
            _ = tick.tick() => {
                if let Err(e) = msg.ack_with(AckKind::Progress).await {
                    tracing::debug!(error = %e, "progress ack failed");
                }
            }
        }
    };
    let ack = match outcome {
        Outcome::Done => AckKind::Ack,
        Outcome::Retry(delay) => AckKind::Nak(Some(delay)),
        Outcome::Dropped => AckKind::Term,
    };
    if let Err(e) = msg.ack_with(ack).await {
        // The message will be redelivered; its effects are keyed, so nothing doubles.
        tracing::warn!(error = %e, "ack failed");
    }
}
