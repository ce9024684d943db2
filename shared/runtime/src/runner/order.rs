//! Per-key ordering inside one copy: messages that share a key (fn-updates uses the chat id)
//! are handled one at a time, lowest rank first (fn-updates ranks by update id; otherwise by
//! arrival), while messages of other keys run in parallel. Only the key's first message may
//! run; the others wait without polling. A message that must wait for something outside the
//! copy (an older update still in the stream) is parked: it stays first while it sleeps, so
//! the messages behind it do not each wake to find the same thing — but an older message that
//! arrives meanwhile (a retried update) ranks before it and runs at once: nothing ever waits
//! for a message queued behind it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Where a message belongs: its key, and its rank among the key's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// Messages of one key go one at a time.
    pub key: i64,
    /// Lower first; equal ranks in arrival order.
    pub rank: i64,
}

/// The queues of all keys with messages held.
#[derive(Default)]
pub struct Chains {
    keys: Mutex<HashMap<i64, Queue>>,
    arrivals: AtomicU64,
}

/// A key's messages by (rank, arrival).
type Queue = BTreeMap<(i64, u64), Member>;

enum Member {
    /// Waiting for its turn; told through the sender when it may go.
    Waiting(Option<oneshot::Sender<()>>),
    /// Its turn: being handled.
    Running,
    /// Sleeping before it tries again; first in line, it keeps the others waiting.
    Parked,
}

/// A message's place among its key's messages; leaving it (drop) lets the next go.
#[derive(Default)]
pub struct Place {
    at: Option<(Arc<Chains>, i64, (i64, u64))>,
    go: Option<oneshot::Receiver<()>>,
}

impl Chains {
    /// Takes a place for a message of `order` (none for a message without one).
    pub fn place(self: &Arc<Self>, order: Option<Order>) -> Place {
        let Some(o) = order else {
            return Place::default();
        };
        let slot = (o.rank, self.arrivals.fetch_add(1, Ordering::Relaxed));
        let mut place = Place {
            at: Some((self.clone(), o.key, slot)),
            go: None,
        };
        place.queue_up();
        place
    }
}

/// Gives the turn to the first message unless one is being handled or the first is parked.
fn promote(queue: &mut Queue) {
    if queue.values().any(|m| matches!(m, Member::Running)) {
        return;
    }
    if let Some(first) = queue.values_mut().next()
        && let Member::Waiting(tx) = first
    {
        if let Some(tx) = tx.take() {
            let _ = tx.send(());
        }
        *first = Member::Running;
    }
}

impl Place {
    /// Runs `f` on the key's queue and this message's slot in it.
    fn with_queue(&self, f: impl FnOnce(&mut Queue, (i64, u64))) {
        if let Some((chains, key, slot)) = &self.at {
            let mut keys = chains.keys.lock().expect("chains lock");
            f(keys.entry(*key).or_default(), *slot);
        }
    }

    /// Waits in line (again); [`Place::ready`] waits for the turn.
    fn queue_up(&mut self) {
        let (tx, rx) = oneshot::channel();
        self.with_queue(|queue, slot| {
            queue.insert(slot, Member::Waiting(Some(tx)));
            promote(queue);
        });
        self.go = Some(rx);
    }

    /// Whether the message must still wait for its turn.
    pub fn waits(&mut self) -> bool {
        let waits = self.go.as_mut().is_some_and(|rx| rx.try_recv().is_err());
        if !waits {
            self.go = None;
        }
        waits
    }

    /// Waits for the message's turn.
    pub async fn ready(&mut self) {
        if let Some(rx) = self.go.take() {
            let _ = rx.await;
        }
    }

    /// The message sleeps before it tries again: first in line, it keeps the turn (the ones
    /// behind it would only find what it found); an older one that came meanwhile goes.
    pub fn park(&mut self) {
        self.with_queue(|queue, slot| {
            queue.insert(slot, Member::Parked);
            promote(queue);
        });
    }

    /// After a park: the message wants its turn again ([`Place::waits`], [`Place::ready`]).
    pub fn resume(&mut self) {
        if self.at.is_some() {
            self.queue_up();
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let Some((chains, key, slot)) = self.at.take() else {
            return;
        };
        let mut keys = chains.keys.lock().expect("chains lock");
        if let Some(queue) = keys.get_mut(&key) {
            queue.remove(&slot);
            if queue.is_empty() {
                keys.remove(&key);
            } else {
                promote(queue);
            }
        }
    }
}

#[cfg(test)]
mod tests;
