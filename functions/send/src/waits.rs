//! How often a send that waits for an earlier one of its chat looks again: soon at first (the
//! earlier one is usually a moment from done), then less and less often, so a chat whose
//! earlier send waits out a long pause or outage is not polled every quarter second by every
//! send queued behind it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use uuid::Uuid;

/// The longest wait between two looks.
const MAX: Duration = Duration::from_secs(4);
/// More waiting effects than this and the oldest counts are forgotten (they start over).
const KEEP: usize = 100_000;

/// Looks so far, per waiting effect (this copy's).
#[derive(Default)]
pub struct Waits(Mutex<HashMap<Uuid, u32>>);

impl Waits {
    /// How long effect `id` waits before it looks again: at least `floor` (what the claim
    /// said), doubling from it with each look, up to [`MAX`].
    pub fn next(&self, id: Uuid, floor: Duration) -> Duration {
        let mut m = self.0.lock().expect("waits lock");
        if m.len() > KEEP {
            m.clear();
        }
        let n = m.entry(id).or_insert(0);
        let wait = floor.saturating_mul(1 << (*n).min(5)).min(MAX.max(floor));
        *n += 1;
        wait
    }

    /// Effect `id` no longer waits.
    pub fn done(&self, id: Uuid) {
        self.0.lock().expect("waits lock").remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_from_the_floor_to_the_cap_and_start_over_when_done() {
        let (w, id) = (Waits::default(), Uuid::new_v4());
        let q = Duration::from_millis(250);
        let seen: Vec<Duration> = (0..7).map(|_| w.next(id, q)).collect();
        assert_eq!(seen[0], q);
        assert_eq!(seen[1], q * 2);
        assert_eq!(seen[4], MAX);
        assert_eq!(seen[6], MAX);
        // A long pause says so itself: never shortened.
        assert_eq!(
            w.next(Uuid::new_v4(), Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        w.done(id);
        assert_eq!(w.next(id, q), q);
    }
}
