//! One route's loop: the shared pull loop (as many messages as free request slots, a chat's
//! updates one after the other) with each message held — progress acks while its request
//! runs, its slot given back while it waits its turn — and settled as its answer says.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use runtime::envelope::update_order;
use runtime::nats::topology::UPDATES_STAGE;
use runtime::runner::{Held, Order, hold, pull_until, settle};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::Route;
use crate::forward::Forwarder;

/// What one route's loop needs.
pub struct Pump {
    /// The stage and its URL.
    pub route: Route,
    /// Shared HTTP client and secret.
    pub forwarder: Arc<Forwarder>,
    /// The consumer's ack wait (progress acks go at a third of it).
    pub ack_wait: Duration,
    /// Becomes true on SIGTERM.
    pub stopping: watch::Receiver<bool>,
}

fn by_chat(payload: &[u8]) -> Option<Order> {
    let (key, rank) = update_order(payload)?;
    Some(Order { key, rank })
}

fn unordered(_: &[u8]) -> Option<Order> {
    None
}

impl Pump {
    /// Bridges until the stop signal; returns the requests still running.
    pub async fn run(self, consumer: PullConsumer, in_flight: usize) -> JoinSet<()> {
        // As the stage's own runner does: a chat's updates in the order they arrived.
        let order = match self.route.stage == UPDATES_STAGE {
            true => by_chat,
            false => unordered,
        };
        let mut stop = self.stopping.clone();
        let stop = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        metrics::gauge!("companion_parked", "stage" => self.route.stage.name).set(0.0);
        let pump = Arc::new(self);
        let slots = Arc::new(Semaphore::new(in_flight));
        pull_until(&consumer, slots, order, stop, |msg, permit, place| {
            let pump = pump.clone();
            async move {
                let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
                let (route, forwarder) = (&pump.route, &pump.forwarder);
                let held = Held {
                    stage: route.stage.name,
                    ack_wait: pump.ack_wait,
                    stopping: &pump.stopping,
                };
                let outcome = hold(&msg, held, permit, place, |_| {
                    forwarder.forward(route, &msg, delivered)
                })
                .await;
                settle(&msg, outcome).await;
            }
        })
        .await
    }
}
