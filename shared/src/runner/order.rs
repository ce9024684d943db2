//! Per-key ordering inside one copy: messages that share a key (fn-updates uses the chat id)
//! are handled one after the other in the order the runner received them, while messages of
//! other keys run in parallel. Each message takes its place in its key's chain when it is
//! received, then waits for the one before it to finish.

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

impl Chains {
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
}
