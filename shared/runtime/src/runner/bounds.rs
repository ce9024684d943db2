//! The runner's bounds: how often a message may come back before it is given up without
//! being handled again, and what is done with a message before it is handled at all
//! ([`admission`]: handled, given back to a newer build, or refused).

use std::time::Duration;

use super::{Core, Outcome, Stage};
use crate::envelope::NEWER_SCHEMA_DELAY;

/// A message from a newer build is given back at most this many times (two minutes at the
/// give-back delay): after a rollback no copy that can read it may ever come.
pub const NEWER_GIVE_BACKS: i64 = 24;
/// A message delivered this often never finished (each failed try counts once, and the runner
/// gives up after [`crate::nats::topology::MAX_DELIVER`] of them): its handling ends the process
/// (out of memory, an abort), so it is given up before it is handled again.
pub const CRASH_LOOP: i64 = NEWER_GIVE_BACKS + crate::nats::topology::MAX_DELIVER;

/// Why a message delivered `delivered` times is given up before it is handled, if it is.
pub fn refusal(delivered: i64, newer: bool) -> Option<String> {
    if newer && delivered >= NEWER_GIVE_BACKS {
        return Some(format!(
            "written by a newer build; given back {delivered} times and no copy of that build took it"
        ));
    }
    (delivered > CRASH_LOOP).then(|| {
        format!("delivered {delivered} times without finishing: its handling ends the process")
    })
}

/// What is done with a message before it is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Handle it.
    Handle,
    /// Written by a newer build (a rolling deploy): given back unhandled as a retry after
    /// this long, for a newer copy to take.
    GiveBack(Duration),
    /// Given up without being handled, for this reason ([`refusal`]).
    Refuse(String),
}

/// What is done with a message delivered `delivered` times, written by a `newer` build or not.
pub fn admission(delivered: i64, newer: bool) -> Admission {
    match refusal(delivered, newer) {
        Some(reason) => Admission::Refuse(reason),
        None if newer => Admission::GiveBack(NEWER_SCHEMA_DELAY),
        None => Admission::Handle,
    }
}

impl<S: Stage> Core<S> {
    /// Gives up on a message without handling it (a crash loop, a build that never comes
    /// back): records it as a dead letter and tells the user, as for any message given up.
    pub async fn refuse(
        &self,
        subject: &str,
        payload: &[u8],
        delivered: i64,
        reason: &str,
    ) -> Outcome {
        Box::pin(self.give_up(subject, payload, reason, delivered)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_handled_given_back_or_refused_by_its_count_and_build() {
        let rows: Vec<(&str, i64, bool, &str)> = vec![
            ("a first delivery", 1, false, "handle"),
            ("up to the crash-loop bound", CRASH_LOOP, false, "handle"),
            (
                "a crash loop",
                CRASH_LOOP + 1,
                false,
                "refuse: without finishing",
            ),
            ("a newer build's", 1, true, "give back"),
            (
                "a newer build's, given back often",
                NEWER_GIVE_BACKS - 1,
                true,
                "give back",
            ),
            (
                "a newer build that never comes",
                NEWER_GIVE_BACKS,
                true,
                "refuse: newer build",
            ),
            (
                "a newer build's crash loop",
                CRASH_LOOP + 1,
                true,
                "refuse: newer build",
            ),
        ];
        for (name, delivered, newer, want) in rows {
            let got = match admission(delivered, newer) {
                Admission::Handle => "handle".to_owned(),
                Admission::GiveBack(d) if d == NEWER_SCHEMA_DELAY => "give back".to_owned(),
                Admission::GiveBack(d) => format!("give back after {d:?}"),
                Admission::Refuse(reason) => format!("refuse: {reason}"),
            };
            let fits = match want.split_once(": ") {
                Some((kind, words)) => got.starts_with(kind) && got.contains(words),
                None => got == want,
            };
            assert!(fits, "{name}: {got}");
        }
    }

    #[test]
    fn crash_loops_and_builds_that_never_come_are_given_up() {
        assert_eq!(refusal(1, false), None);
        assert_eq!(refusal(CRASH_LOOP, false), None);
        assert!(
            refusal(CRASH_LOOP + 1, false)
                .unwrap()
                .contains("without finishing")
        );
        assert_eq!(refusal(NEWER_GIVE_BACKS - 1, true), None);
        assert!(
            refusal(NEWER_GIVE_BACKS, true)
                .unwrap()
                .contains("newer build")
        );
    }
}
