//! Per-key ordering inside one copy: messages that share a key (fn-updates uses the chat id)
//! are handled one after the other in the order the runner received them, while messages of
//! other keys run in parallel. Each message takes its place in its key's chain when it is
//! received, then waits for the one before it to finish — or to step aside: a message that
//! is parked (waiting for something outside the copy, such as an older update still in the
//! stream) leaves its place, so a message it waits for can never be queued behind it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// The chains of all keys with work in flight.
#[derive(Default)]
pub struct Chains {
    tails: Mutex<HashMap<i64, (u64, oneshot::Receiver<()>)>>,
    next_id: std::sync::atomic::AtomicU64,
}

/// A message's place in its chain; dropping it lets the next message of the key go.
pub struct Turn {
    chains: Arc<Chains>,
    key: i64,
    id: u64,
    done: Option<oneshot::Sender<()>>,
}

/// Where a message stands in its key's chain: what it waits for, and its turn. A message
/// without a key has neither.
#[derive(Default)]
pub struct Place {
    before: Option<oneshot::Receiver<()>>,
    turn: Option<Turn>,
}

impl Place {
    /// Whether the message must wait for the one before it.
    pub fn waits(&self) -> bool {
        self.before.is_some()
    }

    /// Waits until the message before it finished or stepped aside.
    pub async fn ready(&mut self) {
        if let Some(before) = self.before.take() {
            let _ = before.await;
        }
    }

    /// Steps aside: the next message of the key may go while this one is parked.
    pub fn leave(&mut self) {
        self.turn = None;
    }
}

impl Chains {
    /// Joins the end of `key`'s chain, or takes no place for a message without a key.
    pub fn place(self: &Arc<Self>, key: Option<i64>) -> Place {
        match key {
            Some(key) => {
                let (before, turn) = self.join(key);
                Place {
                    before,
                    turn: Some(turn),
                }
            }
            None => Place::default(),
        }
    }

    /// Joins the end of `key`'s chain; returns what to wait for first, and the turn.
    pub fn join(self: &Arc<Self>, key: i64) -> (Option<oneshot::Receiver<()>>, Turn) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let prev = {
            let mut tails = self.tails.lock().expect("chains lock");
            tails.insert(key, (id, rx)).map(|(_, rx)| rx)
        };
        let turn = Turn {
            chains: self.clone(),
            key,
            id,
            done: Some(tx),
        };
        (prev, turn)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
        let mut tails = self.chains.tails.lock().expect("chains lock");
        if tails.get(&self.key).is_some_and(|(id, _)| *id == self.id) {
            tails.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_key_waits_other_keys_do_not() {
        let chains = Arc::new(Chains::default());
        let (none, first) = chains.join(1);
        assert!(none.is_none());
        let (wait, second) = chains.join(1);
        let (other, _third) = chains.join(2);
        assert!(other.is_none(), "another key never waits");
        let mut wait = wait.expect("second waits for first");
        assert!(wait.try_recv().is_err());
        drop(first);
        assert!(wait.await.is_ok());
        drop(second);
        assert!(
            chains.tails.lock().unwrap().get(&1).is_none(),
            "chain cleaned up"
        );
    }

    #[tokio::test]
    async fn a_place_left_lets_the_next_go_and_a_newcomer_does_not_wait_for_it() {
        let chains = Arc::new(Chains::default());
        let mut parked = chains.place(Some(7));
        let mut next = chains.place(Some(7));
        parked.leave();
        tokio::time::timeout(std::time::Duration::from_secs(1), next.ready())
            .await
            .expect("the next message goes once the first steps aside");
        next.leave();
        let mut retried = chains.place(Some(7));
        tokio::time::timeout(std::time::Duration::from_secs(1), retried.ready())
            .await
            .expect("a retried message is not queued behind parked ones");
        drop((parked, next, retried));
        assert!(
            chains.tails.lock().unwrap().get(&7).is_none(),
            "chain cleaned up"
        );
    }
}
