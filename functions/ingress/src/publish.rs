//! Publishing a raw update to JetStream and waiting for the stream to store it.

use async_nats::jetstream;
use bytes::Bytes;
use runtime::nats::topology::update_subject;

/// Publishing failed: the broker did not confirm storage.
#[derive(Debug, thiserror::Error)]
#[error("update {update_id} not stored: {reason}")]
pub struct PublishError {
    /// The update that was not stored.
    pub update_id: i64,
    /// What the broker said.
    pub reason: String,
}

/// Publishes updates with deduplication by update id.
#[derive(Clone)]
pub struct Publisher {
    js: jetstream::Context,
}

impl Publisher {
    /// Wraps a JetStream context.
    pub fn new(js: jetstream::Context) -> Self {
        Self { js }
    }

    /// Publishes on the chat's subject and waits for the ack; returns `true` when the stream
    /// saw it before.
    pub async fn publish(&self, update_id: i64, raw: Bytes) -> Result<bool, PublishError> {
        let chat = runtime::envelope::guess_chat_id(&raw).unwrap_or(0);
        let fail = |e: &dyn std::fmt::Display| PublishError {
            update_id,
            reason: e.to_string(),
        };
        // The update's trace starts here: `upd-<id>`, as every function names it.
        let trace = runtime::telemetry::trace::w3c_id(&format!("upd-{update_id}"));
        let parent = runtime::telemetry::trace::traceparent(&trace);
        let started = std::time::Instant::now();
        let ack = self
            .js
            .send_publish(
                update_subject(chat),
                runtime::envelope::stamped(raw)
                    .message_id(format!("tg-{update_id}"))
                    .header(runtime::telemetry::trace::TRACEPARENT, parent.as_str()),
            )
            .await
            .map_err(|e| fail(&e))?
            .await
            .map_err(|e| fail(&e))?;
        runtime::telemetry::hops::record("fn-ingress", "publish", started.elapsed());
        Ok(ack.duplicate)
    }
}
