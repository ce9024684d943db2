//! The floor: the raw broker and database work one text turn is made of, timed directly
//! through async-nats and sqlx on the same servers, with the same concurrency as the load.
//!
//! The floor is what a turn cannot do without, not what the pipeline happens to do (that is
//! counted on the wire, see `count`): 3 JetStream publishes that wait for the stream's ack (the
//! update, the reply job, the send job), 3 consumes with ack (fn-updates, fn-reply, fn-send),
//! and 6 PostgreSQL round trips (claim the update and store the message with its job; read the
//! dialog; store the answer with its message; claim the message for sending; mark it sent; and
//! one to find out whether a redelivered job was already done). The four that write are
//! single-row inserts committed on their own (a durable write costs a WAL flush, as the
//! turn's do); the two that read are trivial selects. Trivial payloads.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Mutex, mpsc};

use crate::system::System;

/// JetStream publishes with ack per turn.
pub const PUBLISHES: usize = 3;
/// Consumes with ack per turn.
pub const CONSUMES: usize = 3;
/// PostgreSQL round trips per turn.
pub const PG_ROUND_TRIPS: usize = 6;
/// Of which durable writes.
pub const PG_WRITES: usize = 4;

/// Runs `turns` floor turns, `concurrency` at a time; returns per-turn times and wall time.
pub async fn run(
    sys: &System,
    turns: usize,
    concurrency: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let js = sys.js().await?;
    js.create_or_update_stream(stream::Config {
        name: "BENCH_FLOOR".into(),
        subjects: vec!["floor.>".into()],
        retention: stream::RetentionPolicy::WorkQueue,
        ..Default::default()
    })
    .await?;
    let stream = js.get_stream("BENCH_FLOOR").await?;
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("floor".into()),
            filter_subject: "floor.consume".into(),
            ack_policy: consumer::AckPolicy::Explicit,
            max_ack_pending: 1024,
            ..Default::default()
        })
        .await?;
    for _ in 0..turns * CONSUMES {
        js.publish("floor.consume", "x".into()).await?;
    }
    sys_flush(&js).await?;
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(64)
        .messages()
        .await?;
    let (tx, rx) = mpsc::channel::<jetstream::Message>(1024);
    let feeder = tokio::spawn(async move {
        while let Some(Ok(m)) = messages.next().await {
            if tx.send(m).await.is_err() {
                break;
            }
        }
    });
    let rx = std::sync::Arc::new(Mutex::new(rx));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(36)
        .min_connections(concurrency.min(36) as u32)
        .connect(&sys.db.url)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_floor (id BIGSERIAL PRIMARY KEY, n BIGINT)")
        .execute(&pool)
        .await?;
    // Warm up: open the pool's connections and the broker's paths before timing.
    for _ in 0..concurrency.min(36) {
        sqlx::query("SELECT 1").execute(&pool).await?;
        js.publish("floor.publish", "warm".into()).await?.await?;
    }
    let started = Instant::now();
    let mut tasks = FuturesUnordered::new();
    let mut times = Vec::with_capacity(turns);
    for i in 0..turns {
        let (js, pool, rx) = (js.clone(), pool.clone(), rx.clone());
        tasks.push(async move {
            let t = Instant::now();
            for _ in 0..PUBLISHES {
                js.publish("floor.publish", "turn".into()).await?.await?;
            }
            for _ in 0..CONSUMES {
                let m = rx
                    .lock()
                    .await
                    .recv()
                    .await
                    .ok_or_else(|| anyhow::anyhow!("floor stream ended"))?;
                m.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            for k in 0..PG_ROUND_TRIPS {
                let sql = if k < PG_WRITES {
                    "INSERT INTO bench_floor (n) VALUES ($1)"
                } else {
                    "SELECT $1::int8"
                };
                sqlx::query(sql).bind(i as i64).execute(&pool).await?;
            }
            Ok::<_, anyhow::Error>(t.elapsed())
        });
        if tasks.len() >= concurrency
            && let Some(r) = tasks.next().await
        {
            times.push(r?);
        }
    }
    while let Some(r) = tasks.next().await {
        times.push(r?);
    }
    let wall = started.elapsed();
    feeder.abort();
    js.delete_stream("BENCH_FLOOR").await?;
    sqlx::query("DROP TABLE bench_floor").execute(&pool).await?;
    Ok((times, wall))
}

async fn sys_flush(js: &jetstream::Context) -> anyhow::Result<()> {
    js.client()
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
