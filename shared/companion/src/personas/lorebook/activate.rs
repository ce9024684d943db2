//! Which entries of a book the latest messages bring into the prompt, in SillyTavern's way:
//! every usable entry is tested against the newest `scan_depth` messages (its own depth when
//! it has one) — constant entries always fire, others need a primary key and, when selective
//! with secondary keys, those under their logic; a fired entry is then kept with its
//! probability. Kept entries are taken highest priority first while the token budget lasts:
//! the first that does not fit ends the scan, so the lowest priorities are the ones left out.
//! With recursive scanning the kept entries' text is scanned again for more entries (not
//! those that exclude recursion, nor by the text of those that prevent it) until nothing new
//! fires. The result is the entries' texts for each position, lowest `insertion_order` first.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::Text;
use super::{Entry, Logic, Lorebook, MAX_RECURSION, MAX_SCAN_DEPTH, Position, tokens};

/// What a scan reads.
#[derive(Debug, Clone, Copy)]
pub struct Scan<'a> {
    /// The latest messages of the dialog, newest first (the one being answered first).
    pub newest_first: &'a [&'a str],
    /// The user's name, for `{{user}}` in keys.
    pub user: &'a str,
    /// The most tokens the entries may take together: the caller knows its prompt. A book's
    /// own `token_budget` may lower it, never raise it.
    pub budget: usize,
    /// Seeds the probability rolls: the same seed rolls the same way (a redelivered job
    /// builds the same prompt).
    pub seed: u64,
    /// Only entries whose text passed the picture rules take part (a photo's scene).
    pub picture: bool,
}

/// The activated entries' texts, by position, in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activated {
    /// Texts that go before the character's definition.
    pub before: Vec<String>,
    /// Texts that go after it.
    pub after: Vec<String>,
}

impl Activated {
    /// No entry was activated.
    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }

    /// `definition` with the before-entries ahead of it and the after-entries behind it, each
    /// a paragraph of its own.
    pub fn around(&self, definition: &str) -> String {
        self.before
            .iter()
            .map(String::as_str)
            .chain([definition])
            .chain(self.after.iter().map(String::as_str))
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Every text, before-entries first.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.before.iter().chain(&self.after).map(String::as_str)
    }
}

impl Lorebook {
    /// The entries `scan`'s messages activate.
    pub fn activate(&self, scan: &Scan<'_>) -> Activated {
        let budget = self
            .token_budget
            .map_or(scan.budget, |b| b.min(scan.budget));
        let mut seen = vec![false; self.entries.len()];
        let mut kept: Vec<usize> = Vec::new();
        let mut used = 0;
        let mut recursed = String::new();
        for round in 0..=MAX_RECURSION {
            let mut fired = self.fired(scan, round, &seen, &recursed);
            fired.sort_by_key(|&i| (std::cmp::Reverse(self.entries[i].priority), i));
            let mut new_text = Vec::new();
            let mut full = false;
            for i in fired {
                seen[i] = true;
                let e = &self.entries[i];
                if !rolls(scan.seed, i, e.probability) {
                    continue;
                }
                let cost = tokens(&e.content);
                if used + cost > budget {
                    full = true;
                    break;
                }
                used += cost;
                kept.push(i);
                if !e.prevent_recursion {
                    new_text.push(e.content.as_str());
                }
            }
            if full || !self.recursive || new_text.is_empty() {
                break;
            }
            recursed.push_str(&new_text.join("\n"));
            recursed.push('\n');
        }
        self.arrange(kept)
    }

    /// The entries not `seen` yet that fire in `round` (0: the messages alone; later: with
    /// the `recursed` text of entries kept before).
    fn fired(&self, scan: &Scan<'_>, round: usize, seen: &[bool], recursed: &str) -> Vec<usize> {
        let depth_of = |e: &Entry| {
            let d = e.scan_depth.unwrap_or(self.scan_depth);
            d.min(MAX_SCAN_DEPTH).min(scan.newest_first.len())
        };
        // The text each depth in use scans, and its lowercase, made once.
        let depths: BTreeSet<usize> = self.entries.iter().map(depth_of).collect();
        let hays: BTreeMap<usize, String> = depths
            .into_iter()
            .map(|d| (d, scan.newest_first[..d].join("\n") + "\n" + recursed))
            .collect();
        let texts: BTreeMap<usize, Text<'_>> = hays
            .iter()
            .map(|(&d, hay)| (d, Text::new(hay, scan.user)))
            .collect();
        let takes_part = |i: usize, e: &Entry| {
            !seen[i] && (e.picture || !scan.picture) && (round == 0 || !e.exclude_recursion)
        };
        self.entries
            .iter()
            .enumerate()
            .filter(|&(i, e)| takes_part(i, e) && fires(e, &texts[&depth_of(e)]))
            .map(|(i, _)| i)
            .collect()
    }

    /// The `kept` entries' texts by position, lowest insertion order first.
    fn arrange(&self, mut kept: Vec<usize>) -> Activated {
        kept.sort_by_key(|&i| (self.entries[i].order, i));
        let mut out = Activated::default();
        for e in kept.into_iter().map(|i| &self.entries[i]) {
            match e.position {
                Position::BeforeChar => out.before.push(e.content.clone()),
                Position::AfterChar => out.after.push(e.content.clone()),
            }
        }
        out
    }
}

/// Whether `e` fires on `text`.
fn fires(e: &Entry, text: &Text<'_>) -> bool {
    if e.constant {
        return true;
    }
    let found = |k: &super::Key| k.found(text, e.case_sensitive, e.whole_words);
    if !e.keys.iter().any(found) {
        return false;
    }
    if !e.selective || e.secondary.is_empty() {
        return true;
    }
    let hits = e.secondary.iter().filter(|k| found(k)).count();
    match e.logic {
        Logic::AndAny => hits > 0,
        Logic::NotAll => hits < e.secondary.len(),
        Logic::NotAny => hits == 0,
        Logic::AndAll => hits == e.secondary.len(),
    }
}

/// Whether entry `index` is kept with `probability` percent under `seed`.
fn rolls(seed: u64, index: usize, probability: u8) -> bool {
    if probability >= 100 {
        return true;
    }
    // splitmix64 of the seed and the index: evenly spread, the same on every copy.
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % 100 < u64::from(probability)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rolls_keep_about_their_share_and_the_ends_are_exact() {
        let kept = (0..10_000u64).filter(|s| super::rolls(*s, 3, 30)).count();
        assert!((2_700..3_300).contains(&kept), "{kept}");
        assert!((0..1000u64).all(|s| super::rolls(s, 1, 100)));
        assert!((0..1000u64).all(|s| !super::rolls(s, 1, 0)));
        assert_eq!(super::rolls(42, 7, 50), super::rolls(42, 7, 50));
    }
}
