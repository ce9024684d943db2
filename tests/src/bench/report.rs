//! The bench's one table, printed and written as JSON under `target/bench/`.

use std::time::Duration;

use serde::Serialize;

use super::Sizes;
use super::load::Turn;
use super::percentiles::Percentiles;

/// Per-function figures.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionFigures {
    /// Binary name.
    pub name: String,
    /// Exec → "ready" log line, ms.
    pub ready_ms: f64,
    /// Resident memory idle, MB.
    pub rss_idle_mb: f64,
    /// Resident memory after the load, MB.
    pub rss_after_mb: f64,
    /// Highest resident memory during the realistic section, MB.
    pub rss_real_mb: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Sizes used.
    #[serde(skip)]
    pub sizes: Sizes,
    /// Webhook updates accepted per second.
    pub webhook_per_s: f64,
    /// Light load: overhead per turn (total minus time inside the LLM stand-in).
    pub overhead_light: Percentiles,
    /// Light load: the floor's time per turn.
    pub floor_light: Percentiles,
    /// Many users: overhead per turn.
    pub overhead_heavy: Percentiles,
    /// Many users: the floor's time per turn.
    pub floor_heavy: Percentiles,
    /// Complete text turns per second.
    pub turns_per_s: f64,
    /// Floor turns per second.
    pub floor_turns_per_s: f64,
    /// Photos per second.
    pub photos_per_s: f64,
    /// Per function.
    pub functions: Vec<FunctionFigures>,
    /// Slow LLM, Telegram latency, many users at once.
    pub realistic: super::realistic::Realistic,
    /// What one text turn costs on the wire.
    pub turn_cost: super::count::TurnCost,
    /// Per hop and part, light load.
    pub hops_light: super::hops::Hops,
    /// Per hop and part, many users.
    pub hops_heavy: super::hops::Hops,
}

fn overhead(turns: &[Turn]) -> Vec<Duration> {
    turns
        .iter()
        .map(|t| t.total.saturating_sub(t.llm))
        .collect()
}

impl Report {
    /// An empty report for `sizes`.
    pub fn new(sizes: Sizes) -> Self {
        Self {
            sizes,
            webhook_per_s: 0.0,
            overhead_light: Percentiles::default(),
            floor_light: Percentiles::default(),
            overhead_heavy: Percentiles::default(),
            floor_heavy: Percentiles::default(),
            turns_per_s: 0.0,
            floor_turns_per_s: 0.0,
            photos_per_s: 0.0,
            functions: Vec::new(),
            realistic: Default::default(),
            turn_cost: Default::default(),
            hops_light: Default::default(),
            hops_heavy: Default::default(),
        }
    }

    /// Records a function's start time and idle memory.
    pub fn function(&mut self, name: &str, ready: Duration, rss_kb: u64) {
        self.functions.push(FunctionFigures {
            name: name.to_owned(),
            ready_ms: ready.as_secs_f64() * 1e3,
            rss_idle_mb: rss_kb as f64 / 1024.0,
            rss_after_mb: 0.0,
            rss_real_mb: 0.0,
        });
    }

    /// Records a function's memory after the load (`realistic`: after that section).
    pub fn after_load(&mut self, name: &str, rss_kb: u64, realistic: bool) {
        if let Some(f) = self.functions.iter_mut().find(|f| f.name == name) {
            let mb = rss_kb as f64 / 1024.0;
            if realistic {
                f.rss_real_mb = mb;
            } else {
                f.rss_after_mb = mb;
            }
        }
    }

    /// Records the light-load phase.
    pub fn latency(&mut self, turns: &[Turn], floor: &[Duration]) {
        self.overhead_light = Percentiles::of(overhead(turns));
        self.floor_light = Percentiles::of(floor.to_vec());
    }

    /// Records the many-users phase.
    pub fn throughput(
        &mut self,
        turns: &[Turn],
        wall: Duration,
        floor: &[Duration],
        floor_wall: Duration,
    ) {
        self.overhead_heavy = Percentiles::of(overhead(turns));
        self.floor_heavy = Percentiles::of(floor.to_vec());
        self.turns_per_s = turns.len() as f64 / wall.as_secs_f64();
        self.floor_turns_per_s = floor.len() as f64 / floor_wall.as_secs_f64();
    }

    /// The table.
    pub fn table(&self) -> String {
        let s = &self.sizes;
        let ratio = |a: f64, b: f64| {
            if b > 0.0 {
                format!("{:.1}×", a / b)
            } else {
                "-".into()
            }
        };
        let pct =
            |p: &Percentiles| format!("{:.1} / {:.1} / {:.1} / {:.1}", p.p50, p.p95, p.p99, p.max);
        let mut out = String::new();
        out += &format!(
            "bench: {} users × {} turns (throughput), {} × {} (latency), {} webhook posts, {} photos\n\n",
            s.users, s.turns, s.latency_users, s.latency_turns, s.webhook, s.photos
        );
        out += &format!(
            "{:<44} {:>30} {:>30} {:>8}\n",
            "metric", "pipeline", "floor", "ratio"
        );
        out += &format!(
            "{:<44} {:>30.0} {:>30} {:>8}\n",
            "webhook updates accepted /s", self.webhook_per_s, "", ""
        );
        out += &format!(
            "{:<44} {:>30.0} {:>30.0} {:>8}\n",
            "text turns /s (many users)",
            self.turns_per_s,
            self.floor_turns_per_s,
            ratio(self.floor_turns_per_s, self.turns_per_s)
        );
        out += &format!(
            "{:<44} {:>30.1} {:>30} {:>8}\n",
            "photos /s", self.photos_per_s, "", ""
        );
        out += &format!(
            "{:<44} {:>30} {:>30} {:>8}\n",
            "overhead ms p50/p95/p99/max (light load)",
            pct(&self.overhead_light),
            pct(&self.floor_light),
            ratio(self.overhead_light.p99, self.floor_light.p99)
        );
        out += &format!(
            "{:<44} {:>30} {:>30} {:>8}\n",
            "overhead ms p50/p95/p99/max (many users)",
            pct(&self.overhead_heavy),
            pct(&self.floor_heavy),
            ratio(self.overhead_heavy.p99, self.floor_heavy.p99)
        );
        out += &super::hops::table(&self.hops_light, &self.hops_heavy);
        let c = &self.turn_cost;
        out += &format!(
            "\none text turn on the wire ({} turns counted): {:.1} SQL round trips; JetStream: {:.1} publishes, {:.1} KV writes, {:.1} KV reads (KV writes and the typing action are not awaited), {:.1} acks, {:.1} pull requests\n",
            s.count_turns, c.sql, c.publishes, c.kv_writes, c.kv_reads, c.acks, c.pulls
        );
        let r = &self.realistic;
        out += &format!(
            "\nrealistic: {} users × 1 message at once, Telegram {} ms per call, LLM {} ms per answer\n",
            r.users, r.telegram_ms, r.llm_ms
        );
        out += &format!("{:<44} {:>30.0}\n", "turns /s", r.turns_per_s);
        out += &format!("{:<44} {:>30}\n", "turn ms p50/p95/p99/max", pct(&r.turn));
        out += &format!("{:<44} {:>30}\n", "max turns in flight", r.max_in_flight);
        out += &format!("{:<44} {:>30}\n", "answers sent twice", r.duplicates);
        out += &format!(
            "\n{:<12} {:>14} {:>16} {:>18} {:>18}\n",
            "function", "exec→ready ms", "RSS idle MB", "RSS after load MB", "RSS realistic peak"
        );
        for f in &self.functions {
            out += &format!(
                "{:<12} {:>14.1} {:>16.1} {:>18.1} {:>18.1}\n",
                f.name, f.ready_ms, f.rss_idle_mb, f.rss_after_mb, f.rss_real_mb
            );
        }
        out += "\nratios: throughput = floor / pipeline (how many times the raw work is faster); latency = pipeline p99 / floor p99\n";
        out
    }
}
