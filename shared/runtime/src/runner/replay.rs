//! Request ids the HTTP runner has already accepted, so a captured `/invoke` request cannot be
//! used again while its signature is still fresh. Every copy of a function (every Lambda
//! execution environment) shares them through the KV bucket `invoke_ids`: admitting an id is
//! one "create if absent" write (JetStream refuses it when the key exists), so two copies
//! never both admit one id. Entries expire after [`KEEP`] — longer than any signature stays
//! fresh — so the bucket holds at most ten minutes of requests, whatever the traffic.

use std::time::Duration;

use async_nats::jetstream::{self, kv};

use super::sign::TOLERANCE_SECS;
use crate::nats::topology::{INVOKE_BUCKET, INVOKE_KEEP, TopologyError};

/// How long an id is kept: a signature is fresh from `t - 5 min` to `t + 5 min` of the
/// receiver's clock, plus a minute of slack (the bucket's lifetime, declared with the
/// topology).
pub const KEEP: Duration = INVOKE_KEEP;
const _: () = assert!(KEEP.as_secs() >= 2 * TOLERANCE_SECS as u64 + 60);

/// What the guard says of a request id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Never seen: go ahead (it is now remembered).
    Fresh,
    /// Seen within the window: refuse.
    Replayed,
    /// The bucket could not be asked: try again later (never admitted unchecked).
    Unavailable,
}

/// The shared memory of admitted ids.
#[derive(Clone)]
pub struct Replays {
    store: kv::Store,
}

impl Replays {
    /// Opens the bucket `migrate` declared (or the function, in development).
    pub async fn open(js: &jetstream::Context) -> Result<Self, TopologyError> {
        js.get_key_value(INVOKE_BUCKET)
            .await
            .map(|store| Self { store })
            .map_err(|e| crate::nats::topology::lookup_error(INVOKE_BUCKET, e.into()))
    }

    /// Admits request id `id` (a valid key: letters, digits, `-`, `_`).
    pub async fn admit(&self, id: &str) -> Admit {
        match self.store.update(id, bytes::Bytes::new(), 0).await {
            Ok(_) => Admit::Fresh,
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Admit::Replayed,
            Err(e) => {
                tracing::warn!(error = %e, "request id bucket unavailable");
                Admit::Unavailable
            }
        }
    }
}
