//! The user's budget: how fast they may write (a GCRA per user, `rate_take`), and how many
//! sends their chat may have waiting. Taken by the hot path ([`super::turn`]) and, with each
//! action's cost, by every other update ([`take`]).

use sqlx::PgConnection;

use crate::route::Sender;

/// How fast one user may write: a GCRA allowing a minute's worth at once, then one message per
/// `interval_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Time per message, ms.
    pub interval_ms: f64,
    /// Credit for a burst, ms.
    pub burst_ms: f64,
}

impl Rate {
    /// `per_minute` messages a minute.
    pub fn per_minute(per_minute: u32) -> Self {
        let interval_ms = 60_000.0 / f64::from(per_minute.max(1));
        Self {
            interval_ms,
            burst_ms: 60_000.0 - interval_ms,
        }
    }
}

/// Sends one chat may have waiting before it is heard again: a chat whose earlier answers
/// Telegram has not taken yet (a flood of menus) gets nothing more queued.
pub const MAX_QUEUED_SENDS: i64 = 40;

/// Takes `cost` texts' worth of the user's budget: `Ok(None)` when the update may go, else
/// `Some(wait)` and whether they should be told (the first time in this wait). A chat with
/// [`MAX_QUEUED_SENDS`] sends still waiting is over its budget too, for a few seconds.
pub async fn take(
    c: &mut PgConnection,
    s: &Sender,
    rate: Rate,
    cost: f64,
) -> sqlx::Result<Option<(std::time::Duration, bool)>> {
    let (wait, tell): (i64, bool) = sqlx::query_as(
        "WITH q AS (SELECT count(*) AS queued FROM (SELECT 1 FROM effects
                     WHERE chat_id = $2 AND state = 'pending' LIMIT $6) p),
         t AS (SELECT CASE WHEN q.queued >= $6 THEN 5000
                      ELSE rate_take('user:' || $1, $5 * $3, $3, $4) END AS wait FROM q),
         n AS (UPDATE users SET rate_noted_until = now() + make_interval(secs => t.wait / 1000.0)
               FROM t WHERE t.wait > 0 AND id = $1
                 AND (rate_noted_until IS NULL OR rate_noted_until < now())
               RETURNING 1)
         SELECT t.wait, EXISTS (SELECT 1 FROM n) FROM t",
    )
    .bind(s.user_id)
    .bind(s.chat_id)
    .bind(rate.interval_ms)
    .bind(rate.burst_ms)
    .bind(cost)
    .bind(MAX_QUEUED_SENDS)
    .fetch_one(c)
    .await?;
    Ok((wait > 0).then(|| (std::time::Duration::from_millis(wait as u64), tell)))
}

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn a_minutes_worth_at_once_then_one_per_interval() {
        let r = Rate::per_minute(20);
        assert_eq!(r.interval_ms, 3000.0);
        // GCRA: the burst credit admits 20 at once (19 intervals of credit plus the first).
        assert_eq!(((r.burst_ms / r.interval_ms) as u32) + 1, 20);
        assert_eq!(
            Rate::per_minute(0).interval_ms,
            60_000.0,
            "never divides by zero"
        );
    }
}
