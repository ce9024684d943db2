//! `make bench`: what the pipeline costs, measured against the raw NATS and PostgreSQL work it
//! is made of, in one run on one machine. Starts the whole system (stand-ins answering at
//! once), then measures: webhook intake, a light-load latency phase, a many-users throughput
//! phase, photos, the floor for the same turns, and per-function start time and memory.

pub mod admin;
mod count;
mod floor;
mod hops;
mod load;
mod percentiles;
mod procfs;
mod proxy;
mod realistic;
mod report;

use std::time::Duration;

pub use count::{TurnCost, text_turn_cost};
pub use load::{FIRST_USER, Waiters, dispatcher, seed as seed_users};
pub use percentiles::Percentiles;
pub use report::Report;

use crate::system::{FUNCTIONS, System};

/// Sizes of a run, from `BENCH_*` variables.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Users typing at once in the throughput phase (`BENCH_USERS`).
    pub users: i64,
    /// Turns per user in the throughput phase (`BENCH_TURNS`).
    pub turns: usize,
    /// Users in the latency phase (`BENCH_LATENCY_USERS`).
    pub latency_users: i64,
    /// Turns per user in the latency phase (`BENCH_LATENCY_TURNS`).
    pub latency_turns: usize,
    /// Webhook updates posted (`BENCH_WEBHOOK`).
    pub webhook: usize,
    /// Photos asked for (`BENCH_PHOTOS`).
    pub photos: usize,
    /// Turns counted on the wire (`BENCH_COUNT_TURNS`).
    pub count_turns: usize,
    /// Users in the realistic section (`BENCH_REAL_USERS`).
    pub real_users: i64,
    /// Telegram's latency there, ms (`BENCH_REAL_TELEGRAM_MS`).
    pub real_telegram_ms: u64,
    /// The LLM's time per answer there, ms (`BENCH_REAL_LLM_MS`).
    pub real_llm_ms: u64,
}

impl Sizes {
    /// Defaults that finish well under 3 minutes on 2 cores, overridden by the environment.
    pub fn from_env() -> Self {
        let get = |k: &str, d: usize| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        Self {
            users: get("BENCH_USERS", 1000) as i64,
            turns: get("BENCH_TURNS", 3),
            latency_users: get("BENCH_LATENCY_USERS", 4) as i64,
            latency_turns: get("BENCH_LATENCY_TURNS", 50),
            webhook: get("BENCH_WEBHOOK", 5000),
            photos: get("BENCH_PHOTOS", 100),
            count_turns: get("BENCH_COUNT_TURNS", 50),
            real_users: get("BENCH_REAL_USERS", 1000) as i64,
            real_telegram_ms: get("BENCH_REAL_TELEGRAM_MS", 30) as u64,
            real_llm_ms: get("BENCH_REAL_LLM_MS", 5000) as u64,
        }
    }
}

/// Runs the bench and returns its report.
pub async fn run(sizes: &Sizes) -> anyhow::Result<Report> {
    // Counted on a small system of its own: the proxies must not slow the timed phases.
    let cost = text_turn_cost(sizes.count_turns).await?;
    let log = std::env::var("BENCH_RUST_LOG")
        .unwrap_or_else(|_| "warn,runtime::runner=info,fn_ingress=info".to_owned());
    let sys = System::start(
        "bench",
        &[
            ("ACK_WAIT_SECS", "10"),
            // Long-term memory as deployed (the harness turns it off for other tests).
            ("MEMORY_EVERY", "4"),
            // One warm connection per pool: the floor opens 36 beside the seven functions'
            // pools, and a second warm one in each idle function took the server past its 100.
            ("DATABASE_WARM_CONNECTIONS", "1"),
            ("RUST_LOG", &log),
            ("LOG_FORMAT", "text"),
            // Every function its own ops port: the hop table is read from their /metrics.
            ("OPS_ADDR", "auto"),
        ],
    )
    .await?;
    let mut r = Report::new(sizes.clone());
    r.turn_cost = cost;
    for name in FUNCTIONS {
        let ready = procfs::exec_to_ready(&sys, name).await?;
        let rss = sys.pid(name).and_then(procfs::rss_kb).unwrap_or(0);
        r.function(name, ready, rss);
    }
    let light = sizes.latency_users * sizes.latency_turns as i64;
    let most = sizes.users.max(light).max(sizes.real_users);
    let dialogs = load::seed(&sys, most).await?;
    r.webhook_per_s = load::webhook_rate(&sys, sizes.webhook, 64).await?;
    drain(&sys).await?;

    let before = hops::snapshot(&sys).await?;
    let (light, _) = load::text_turns(&sys, sizes.latency_users, sizes.latency_turns, true).await?;
    drain(&sys).await?;
    r.hops_light = hops::snapshot(&sys).await?.since(&before, light.len());
    let (floor_light, _) = floor::run(&sys, light.len(), sizes.latency_users as usize).await?;
    r.latency(&light, &floor_light);

    let before = hops::snapshot(&sys).await?;
    let (heavy, wall) = load::text_turns(&sys, sizes.users, sizes.turns, false).await?;
    drain(&sys).await?;
    r.hops_heavy = hops::snapshot(&sys).await?.since(&before, heavy.len());
    let (floor_heavy, floor_wall) = floor::run(&sys, heavy.len(), sizes.users as usize).await?;
    r.throughput(&heavy, wall, &floor_heavy, floor_wall);

    r.photos_per_s = load::photos(&sys, &dialogs, sizes.photos).await?;
    for name in FUNCTIONS {
        r.after_load(
            name,
            sys.pid(name).and_then(procfs::rss_kb).unwrap_or(0),
            false,
        );
    }
    drain(&sys).await?;
    r.realistic = realistic::run(
        &sys,
        sizes.real_users,
        sizes.real_telegram_ms,
        sizes.real_llm_ms,
    )
    .await?;
    for name in FUNCTIONS {
        let peak = r.realistic.peak_rss_kb.get(name).copied().unwrap_or(0);
        r.after_load(name, peak, true);
    }
    Ok(r)
}

/// Waits until every stage consumer has nothing pending or in flight (two minutes at most).
pub async fn drain(sys: &System) -> anyhow::Result<()> {
    sys.settle(Duration::from_secs(120)).await
}
