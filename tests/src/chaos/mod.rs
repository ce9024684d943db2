//! `make chaos`: the real processes under fire. Users write through the webhook — each round
//! two quick messages, then both answers — and press the photo button, while a driver kills a
//! random function with SIGKILL every few seconds and restarts it, and kills and restarts
//! nats-server (file store) twice. At the end it counts what users would notice: updates lost,
//! rows and visible messages duplicated, answers out of order, dead letters, and how long an
//! answer took while the kills went on.

mod driver;
mod report;

use std::time::Duration;

pub use report::ChaosReport;

use crate::system::System;

/// Sizes of a chaos run.
#[derive(Debug, Clone)]
pub struct ChaosSizes {
    /// Users writing at once (`CHAOS_USERS`).
    pub users: i64,
    /// Text turns in all (`CHAOS_TURNS`), two per round per user.
    pub turns: usize,
    /// Photo presses in all (`CHAOS_PHOTOS`).
    pub photos: usize,
    /// Time between two kills (`CHAOS_KILL_EVERY_MS`).
    pub kill_every: Duration,
    /// Times nats-server is killed and restarted (`CHAOS_NATS_KILLS`).
    pub nats_kills: usize,
    /// The LLM's time per answer (`CHAOS_LLM_MS`).
    pub llm_ms: u64,
    /// A user's pause between rounds, ms (`CHAOS_THINK_MS`; each pause varies ±50 %).
    pub think_ms: u64,
    /// The functions' ack wait (`CHAOS_ACK_WAIT_SECS`, the default of `ACK_WAIT_SECS`).
    pub ack_wait_secs: u64,
    /// Nudges on for every user, with this silence (`CHAOS_NUDGE_SILENCE_SECS`, 30: longer
    /// than a user's pause between rounds, so each user gets at most the one after their last
    /// round, which the run waits for); 0: nudges off.
    pub nudge_silence_secs: u64,
}

impl ChaosSizes {
    /// The full run's defaults, overridden by the environment.
    pub fn from_env() -> Self {
        let get = |k: &str, d: u64| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        Self {
            users: get("CHAOS_USERS", 200) as i64,
            turns: get("CHAOS_TURNS", 2000) as usize,
            photos: get("CHAOS_PHOTOS", 200) as usize,
            kill_every: Duration::from_millis(get("CHAOS_KILL_EVERY_MS", 3000)),
            nats_kills: get("CHAOS_NATS_KILLS", 2) as usize,
            llm_ms: get("CHAOS_LLM_MS", 300),
            think_ms: get("CHAOS_THINK_MS", 8000),
            ack_wait_secs: get("CHAOS_ACK_WAIT_SECS", 10),
            nudge_silence_secs: get("CHAOS_NUDGE_SILENCE_SECS", 30),
        }
    }
}

/// Every seeded user allows their persona to write first, with no quiet hours.
async fn allow_nudges(sys: &System) -> anyhow::Result<()> {
    let pool = sys.pool().await?;
    sqlx::query("UPDATE user_selected_girls SET nudges = true, nudges_on_at = now()")
        .execute(&pool)
        .await?;
    sqlx::query("UPDATE users SET quiet_from = 0, quiet_to = 0")
        .execute(&pool)
        .await?;
    Ok(())
}

/// Runs the chaos and returns what it counted.
pub async fn run(sizes: &ChaosSizes) -> anyhow::Result<ChaosReport> {
    let silence = sizes.nudge_silence_secs.max(1).to_string();
    let sys = System::start(
        "chaos",
        &[
            ("RUST_LOG", "warn,runtime::runner=info"),
            ("LOG_FORMAT", "text"),
            ("NUDGE_SILENCE_SECS", &silence),
            // Long-term memory extraction on, as deployed (the harness turns it off).
            ("MEMORY_EVERY", "4"),
            // Warm connections as deployed (the harness keeps one per pool).
            ("DATABASE_WARM_CONNECTIONS", "2"),
        ],
    )
    .await?;
    sys.llm.set_default_delay(sizes.llm_ms);
    let dialogs = crate::bench::seed_users(&sys, sizes.users).await?;
    if sizes.nudge_silence_secs > 0 {
        allow_nudges(&sys).await?;
    }
    let started = std::time::Instant::now();
    let outcome = driver::drive(&sys, sizes, &dialogs).await?;
    if sizes.nudge_silence_secs > 0 {
        // The nudges after the last round fire now (through the same kills' aftermath).
        tokio::time::sleep(Duration::from_secs(sizes.nudge_silence_secs + 10)).await;
    }
    let wall = started.elapsed();
    report::count(&sys, sizes, outcome, wall).await
}
