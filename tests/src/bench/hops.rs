//! The hop table: where a phase's time went, per stage and part, read from the functions'
//! own `/metrics` (`companion_hop_seconds{stage, part}`, what an operator's dashboard shows)
//! before and after the phase. Percentiles come from the histogram's buckets the way
//! Prometheus' `histogram_quantile` computes them (linear within a bucket), so a figure is as
//! fine as the buckets around it (0.25 ms below 2 ms, 1–5 ms up to 30 ms).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::system::{FUNCTIONS, System};

/// Cumulative bucket counts by (stage, part), upper bound in seconds → count; and SQL
/// statements run, by stage.
#[derive(Debug, Clone, Default)]
pub struct Snapshot(
    BTreeMap<(String, String), Vec<(f64, f64)>>,
    BTreeMap<String, f64>,
);

/// What a phase measured per hop.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Hops {
    /// Per stage and part.
    pub rows: Vec<HopRow>,
    /// SQL statements per text turn, by stage.
    pub statements: Vec<(String, f64)>,
}

/// One line of the table.
#[derive(Debug, Clone, Serialize)]
pub struct HopRow {
    /// Stage (`fn-updates`, …).
    pub stage: String,
    /// Part (`queue`, `sql`, …).
    pub part: String,
    /// Messages recorded in the phase, per text turn.
    pub per_turn: f64,
    /// Median, ms.
    pub p50: f64,
    /// 99th percentile, ms.
    pub p99: f64,
}

/// Reads every function's `/metrics` (each copy's ops port) and sums the hop buckets.
pub async fn snapshot(sys: &System) -> anyhow::Result<Snapshot> {
    let http = reqwest::Client::new();
    let mut all = Snapshot::default();
    for name in FUNCTIONS {
        let Some(addr) = sys.ops_addr(name) else {
            continue;
        };
        let text = http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        all.add(&text);
    }
    Ok(all)
}

impl Snapshot {
    fn add(&mut self, text: &str) {
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("companion_sql_statements_total{stage=\"")
                && let Some((stage, value)) = rest.split_once("\"} ")
            {
                *self.1.entry(stage.to_owned()).or_default() += value.trim().parse().unwrap_or(0.0);
                continue;
            }
            let Some(rest) = line.strip_prefix("companion_hop_seconds_bucket{") else {
                continue;
            };
            let Some((labels, value)) = rest.rsplit_once("} ") else {
                continue;
            };
            let label = |k: &str| {
                labels.split(',').find_map(|kv| {
                    let (key, v) = kv.split_once('=')?;
                    (key == k).then(|| v.trim_matches('"').to_owned())
                })
            };
            let (Some(stage), Some(part), Some(le)) = (label("stage"), label("part"), label("le"))
            else {
                continue;
            };
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap_or(f64::INFINITY)
            };
            let count: f64 = value.trim().parse().unwrap_or(0.0);
            let buckets = self.0.entry((stage, part)).or_default();
            match buckets.iter_mut().find(|(b, _)| *b == le) {
                Some((_, c)) => *c += count,
                None => buckets.push((le, count)),
            }
        }
        for buckets in self.0.values_mut() {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
    }

    /// What was recorded between `before` and `self`, for `turns` text turns.
    pub fn since(&self, before: &Snapshot, turns: usize) -> Hops {
        let mut statements: Vec<(String, f64)> = self
            .1
            .iter()
            .map(|(stage, n)| {
                let was = before.1.get(stage).copied().unwrap_or(0.0);
                (stage.clone(), (n - was) / turns.max(1) as f64)
            })
            .filter(|(_, n)| *n > 0.0)
            .collect();
        statements.sort_by_key(|(s, _)| stage_rank(s));
        Hops {
            rows: self.rows_since(before, turns),
            statements,
        }
    }

    fn rows_since(&self, before: &Snapshot, turns: usize) -> Vec<HopRow> {
        let mut rows = Vec::new();
        for ((stage, part), buckets) in &self.0 {
            let earlier = before.0.get(&(stage.clone(), part.clone()));
            let delta: Vec<(f64, f64)> = buckets
                .iter()
                .map(|&(le, c)| {
                    let was = earlier
                        .and_then(|e| e.iter().find(|(b, _)| *b == le))
                        .map_or(0.0, |(_, c)| *c);
                    (le, c - was)
                })
                .collect();
            let total = delta.last().map_or(0.0, |(_, c)| *c);
            if total <= 0.0 {
                continue;
            }
            rows.push(HopRow {
                stage: stage.clone(),
                part: part.clone(),
                per_turn: total / turns.max(1) as f64,
                p50: quantile(&delta, 0.5) * 1e3,
                p99: quantile(&delta, 0.99) * 1e3,
            });
        }
        rows.sort_by_key(|r| (stage_rank(&r.stage), part_rank(&r.part)));
        rows
    }
}

/// `histogram_quantile`: linear within the bucket the rank falls in; the highest finite
/// bound when it falls in `+Inf`.
fn quantile(cumulative: &[(f64, f64)], q: f64) -> f64 {
    let total = cumulative.last().map_or(0.0, |(_, c)| *c);
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for &(le, count) in cumulative {
        if count >= rank {
            if le.is_infinite() {
                return lower;
            }
            let inside = count - below;
            let share = if inside > 0.0 {
                (rank - below) / inside
            } else {
                1.0
            };
            return lower + (le - lower) * share;
        }
        (lower, below) = (le, count);
    }
    lower
}

fn stage_rank(stage: &str) -> usize {
    [
        "fn-ingress",
        "fn-updates",
        "fn-reply",
        "fn-send",
        "fn-prompt",
        "fn-image",
    ]
    .iter()
    .position(|s| *s == stage)
    .unwrap_or(9)
}

fn part_rank(part: &str) -> usize {
    [
        "queue", "turn", "sql", "nats", "outside", "commit", "publish", "other", "parked", "total",
    ]
    .iter()
    .position(|p| *p == part)
    .unwrap_or(9)
}

/// The light and many-users tables side by side.
pub fn table(light: &Hops, heavy: &Hops) -> String {
    let per_stage = |h: &Hops| {
        let each: Vec<String> = h
            .statements
            .iter()
            .map(|(s, n)| format!("{s} {n:.2}"))
            .collect();
        each.join(", ")
    };
    let sql = format!(
        "SQL statements per text turn, light load: {}; many users: {}\n",
        per_stage(light),
        per_stage(heavy)
    );
    let (light, heavy) = (&light.rows, &heavy.rows);
    let mut keys: Vec<(&str, &str)> = light
        .iter()
        .chain(heavy)
        .map(|r| (r.stage.as_str(), r.part.as_str()))
        .collect();
    keys.sort_by_key(|(s, p)| (stage_rank(s), part_rank(p), s.to_string(), p.to_string()));
    keys.dedup();
    let find = |rows: &[HopRow], (s, p): (&str, &str)| {
        rows.iter()
            .find(|r| r.stage == s && r.part == p)
            .map_or(format!("{:>7} {:>8} {:>8}", "-", "-", "-"), |r| {
                format!("{:>7.2} {:>8.2} {:>8.2}", r.per_turn, r.p50, r.p99)
            })
    };
    let mut out = format!(
        "\nper hop (ms, from /metrics; n = messages per text turn)\n{:<12} {:<8} {:>25} {:>25}\n{:<12} {:<8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>8}\n",
        "stage", "part", "light load", "many users", "", "", "n", "p50", "p99", "n", "p50", "p99"
    );
    for key in keys {
        out += &format!(
            "{:<12} {:<8} {} {}\n",
            key.0,
            key.1,
            find(light, key),
            find(heavy, key)
        );
    }
    out + &sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_as_prometheus_computes_them() {
        let b = [
            (0.001, 50.0),
            (0.002, 90.0),
            (0.004, 100.0),
            (f64::INFINITY, 100.0),
        ];
        assert!((quantile(&b, 0.5) - 0.001).abs() < 1e-9);
        assert!((quantile(&b, 0.7) - 0.0015).abs() < 1e-9);
        assert!((quantile(&b, 0.99) - 0.0038).abs() < 1e-9);
        let tail = [(0.001, 10.0), (f64::INFINITY, 20.0)];
        assert_eq!(quantile(&tail, 0.99), 0.001);
    }

    #[test]
    fn deltas_between_scrapes() {
        let scrape = |n: u32| {
            format!(
                "companion_hop_seconds_bucket{{stage=\"fn-send\",part=\"sql\",le=\"0.001\"}} {n}\n\
                 companion_hop_seconds_bucket{{stage=\"fn-send\",part=\"sql\",le=\"+Inf\"}} {}\n",
                n * 2
            )
        };
        let (mut a, mut b) = (Snapshot::default(), Snapshot::default());
        a.add(&scrape(10));
        b.add(&scrape(30));
        let rows = b.since(&a, 20).rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].per_turn, 2.0);
        assert!((rows[0].p50 - 1.0).abs() < 1e-9);
    }
}
