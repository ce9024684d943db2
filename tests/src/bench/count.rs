//! What one text turn costs in round trips, counted on the wire: the functions of a second,
//! small system reach PostgreSQL and NATS through two counting proxies (see `proxy` for what
//! is counted). An idle stretch of the same length is counted too and taken off (sweeper, pull
//! renewals), and what is left is divided by the turns.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::proxy::{Counts, Kind, proxy};
use crate::llm::answer_for;
use crate::system::System;
use crate::updates::{self, User};

/// Per-turn costs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TurnCost {
    /// PostgreSQL round trips.
    pub sql: f64,
    /// JetStream publishes (stream messages: updates and jobs).
    pub publishes: f64,
    /// KV writes (job status).
    pub kv_writes: f64,
    /// KV reads.
    pub kv_reads: f64,
    /// Acks of every kind (ack, nak, progress, term).
    pub acks: f64,
    /// Pull requests.
    pub pulls: f64,
}

fn per_turn(
    busy: &HashMap<&'static str, u64>,
    idle: &HashMap<&'static str, u64>,
    turns: usize,
) -> TurnCost {
    let f = |k: &str| {
        let b = busy.get(k).copied().unwrap_or(0) as f64;
        let i = idle.get(k).copied().unwrap_or(0) as f64;
        (b - i).max(0.0) / turns as f64
    };
    TurnCost {
        sql: f("sql"),
        publishes: f("publishes"),
        kv_writes: f("kv_writes"),
        kv_reads: f("kv_reads"),
        acks: f("acks"),
        pulls: f("pulls"),
    }
}

/// Starts a small system whose functions reach PostgreSQL and NATS through counting proxies,
/// and counts `turns` sequential text turns of one user (each answered before the next).
pub async fn text_turn_cost(turns: usize) -> anyhow::Result<TurnCost> {
    let counts: Counts = Arc::default();
    let c = counts.clone();
    let via = move |nats: &str, db: &str| -> anyhow::Result<(String, String)> {
        let nats_target = nats.trim_start_matches("nats://").to_owned();
        let rest = db.split_once('@').map(|(_, r)| r).unwrap_or(db);
        let db_target = rest
            .split('/')
            .next()
            .unwrap_or("127.0.0.1:5432")
            .to_owned();
        let np = proxy(nats_target.clone(), c.clone(), Kind::Nats)?;
        let dp = proxy(db_target.clone(), c.clone(), Kind::Postgres)?;
        let db = db.replacen(&db_target, &format!("127.0.0.1:{dp}"), 1);
        Ok((format!("nats://127.0.0.1:{np}"), db))
    };
    let log = ("RUST_LOG", "warn,runtime::runner=info,fn_ingress=info");
    let sys = System::start_via("count", &[log], &via).await?;
    crate::bench::seed_users(&sys, 1).await?;
    count_turns(&sys, &counts, turns).await
}

/// Runs the counted turns on a started system.
pub async fn count_turns(sys: &System, counts: &Counts, turns: usize) -> anyhow::Result<TurnCost> {
    let user = User::new(crate::bench::FIRST_USER, "Counted");
    // Warm up: the first turns open connections and prepare statements on them (steady state
    // is what a running bot pays).
    let user = &user;
    let ask = |t: String| async move {
        let since = sys.tg.calls().len();
        let u = updates::text(sys.tg.next_update_id(), 1, user, &t);
        anyhow::ensure!(sys.post_update(&u).await == 200, "webhook refused a turn");
        let want = answer_for(&t);
        sys.wait_call(since, Duration::from_secs(30), |c| {
            crate::system::shows_text(c) && c.params["text"] == want.as_str()
        })
        .await?;
        Ok::<_, anyhow::Error>(())
    };
    for w in 0..turns.min(20) {
        ask(format!("warm up {w}")).await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    counts.lock().unwrap().clear();
    let started = Instant::now();
    for t in 0..turns {
        ask(format!("counted {t}")).await?;
    }
    // Status writes and acks are not awaited by anyone: let them land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let took = started.elapsed();
    let busy = std::mem::take(&mut *counts.lock().unwrap());
    tokio::time::sleep(took).await;
    let idle = std::mem::take(&mut *counts.lock().unwrap());
    Ok(per_turn(&busy, &idle, turns))
}
