//! What a chaos run counts, and whether it passed: nothing lost, no duplicated rows, visible
//! duplicates at most 0.1 %, no answer out of order, no dead letter.

use std::collections::HashMap;
use std::time::Duration;

use super::ChaosSizes;
use super::driver::Outcome;
use crate::bench::Percentiles;
use crate::system::System;

/// The figures of one chaos run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChaosReport {
    /// Text turns asked for.
    pub turns: usize,
    /// Photo presses asked for.
    pub photos: usize,
    /// Functions killed with SIGKILL (and restarted).
    pub kills: usize,
    /// nats-server restarts.
    pub nats_restarts: usize,
    /// Turns and photos never answered.
    pub lost: usize,
    /// Rows stored twice (answers per message, messages per update, photos per press).
    pub duplicated_rows: i64,
    /// Messages and photos Telegram received more than once.
    pub duplicated_visible: usize,
    /// Visible messages and photos in all.
    pub visible: usize,
    /// Rounds whose two answers arrived in the wrong order.
    pub out_of_order: usize,
    /// Dead letters.
    pub dead_letters: i64,
    /// Time from webhook accepted to the answer at Telegram, ms.
    pub wait: Percentiles,
    /// The whole run.
    pub wall_s: f64,
}

impl ChaosReport {
    /// The failed checks, empty when the run passed.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let mut check = |ok: bool, what: String| {
            if !ok {
                f.push(what);
            }
        };
        check(self.lost == 0, format!("{} updates lost", self.lost));
        check(
            self.duplicated_rows == 0,
            format!("{} duplicated rows", self.duplicated_rows),
        );
        check(
            self.duplicated_visible as f64 <= 0.001 * self.visible as f64,
            format!(
                "{} of {} visible messages duplicated (> 0.1 %)",
                self.duplicated_visible, self.visible
            ),
        );
        check(
            self.out_of_order == 0,
            format!("{} answers out of order", self.out_of_order),
        );
        check(
            self.dead_letters == 0,
            format!("{} dead letters", self.dead_letters),
        );
        f
    }

    /// The printed summary.
    pub fn table(&self) -> String {
        let w = &self.wait;
        format!(
            "chaos: {} text turns + {} photo presses, {} SIGKILLs, {} nats-server restarts, {:.0} s\n\
             updates lost                 {}\n\
             duplicated rows              {}\n\
             duplicated visible messages  {} of {} ({:.3} %)\n\
             answers out of order         {}\n\
             dead letters                 {}\n\
             answer wait ms p50/p95/p99/max  {:.0} / {:.0} / {:.0} / {:.0}\n",
            self.turns,
            self.photos,
            self.kills,
            self.nats_restarts,
            self.wall_s,
            self.lost,
            self.duplicated_rows,
            self.duplicated_visible,
            self.visible,
            100.0 * self.duplicated_visible as f64 / self.visible.max(1) as f64,
            self.out_of_order,
            self.dead_letters,
            w.p50,
            w.p95,
            w.p99,
            w.max
        )
    }
}

/// Counts in the database and at the Telegram stand-in, once the pipeline is quiet.
pub async fn count(
    sys: &System,
    sizes: &ChaosSizes,
    o: Outcome,
    wall: Duration,
) -> anyhow::Result<ChaosReport> {
    crate::bench::drain(sys).await?;
    let pool = sys.pool().await?;
    let mut duplicated_rows = 0;
    for sql in [
        "SELECT count(*) FROM (SELECT reply_to FROM chat_messages WHERE role = 'assistant'
             AND reply_to IS NOT NULL GROUP BY reply_to HAVING count(*) > 1) d",
        "SELECT count(*) FROM (SELECT dialog_id, content FROM chat_messages WHERE role = 'user'
             GROUP BY 1, 2 HAVING count(*) > 1) d",
        "SELECT count(*) - count(DISTINCT user_id) FROM photos",
    ] {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await?;
        duplicated_rows += n;
    }
    let dead_letters: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await?;
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    for c in sys.tg.calls() {
        let key = match c.method.as_str() {
            "sendmessage" | "editmessagetext"
                if c.params["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Tell me more?") =>
            {
                c.params["text"].as_str().unwrap_or("").to_owned()
            }
            "sendphoto" => "photo".to_owned(),
            _ => continue,
        };
        if !c.result.is_null() {
            *seen
                .entry((c.params["chat_id"].as_i64().unwrap_or(0), key))
                .or_default() += 1;
        }
    }
    Ok(ChaosReport {
        turns: sizes.turns,
        photos: sizes.photos,
        kills: o.kills,
        nats_restarts: o.nats_restarts,
        lost: o.lost,
        duplicated_rows,
        duplicated_visible: seen.values().map(|n| n - 1).sum(),
        visible: seen.values().sum(),
        out_of_order: o.out_of_order,
        dead_letters,
        wait: Percentiles::of(o.waits),
        wall_s: wall.as_secs_f64(),
    })
}
