//! Waiting for the pipeline to go quiet: every stage's consumer with nothing pending and
//! nothing in flight — what an assertion that something did *not* happen, the bench between
//! its phases and chaos before its report all wait for.

use std::time::Duration;

use crate::harness::wait_for;
use crate::system::System;

impl System {
    /// Waits up to `limit` until every stage consumer has nothing pending or in flight; on a
    /// timeout, says which stages still had work.
    pub async fn settle(&self, limit: Duration) -> anyhow::Result<()> {
        let js = self.js().await?;
        let idle = || {
            let js = js.clone();
            async move {
                for stage in runtime::nats::topology::STAGES {
                    let info = runtime::nats::topology::consumer_info(&js, &stage).await?;
                    if info.num_pending > 0 || info.num_ack_pending > 0 {
                        return None;
                    }
                }
                Some(())
            }
        };
        let waited = wait_for("the pipeline to settle", limit, idle).await;
        if waited.is_err() {
            for stage in runtime::nats::topology::STAGES {
                if let Some(i) = runtime::nats::topology::consumer_info(&js, &stage).await {
                    eprintln!(
                        "{}: {} pending, {} in flight, {} redelivered",
                        stage.name, i.num_pending, i.num_ack_pending, i.num_redelivered
                    );
                }
            }
        }
        waited
    }
}
