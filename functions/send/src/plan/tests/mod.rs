//! The plan's table, row by row: every way the claim can find an effect and every gate before
//! the call ([`claim`]), and every answer Telegram gives, in Telegram's own words sorted as the
//! Bot API client sorts them, for each kind of effect ([`answer`]).

mod answer;
mod claim;

use std::time::Duration;

use super::Facts;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A message the user waits for.
fn message() -> Facts {
    Facts {
        visible: true,
        ..Facts::default()
    }
}
