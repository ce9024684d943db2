//! A card's lorebook (`data.character_book`, "world info"): entries of background text that
//! enter the prompt when their keys appear in the latest messages. The card's book is read
//! once at load ([`from_card`]: every entry's keys and content pass the minor-safety scan, an
//! entry that fails or cannot be read is left out and named in a warning), kept in the
//! `girls.lorebook` column in the shape below, and asked per turn ([`Lorebook::activate`])
//! which entries the recent messages bring in — as SillyTavern reads a character book:
//! keys matched case-insensitively (unless the entry says otherwise) and as whole words
//! where a key begins or ends with a letter or digit, `/regex/flags` keys, secondary keys
//! under the entry's `selectiveLogic`, constant entries always, disabled ones never, a
//! token budget that leaves out the lowest-priority entries first, optional recursion.

mod activate;
mod keys;
mod parse;
mod raw;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use activate::{Activated, Scan};
pub use keys::{BadKey, Key};
pub use parse::{Dropped, Read, from_card};

/// Messages scanned for keys when the book does not say: SillyTavern's default (the message
/// answered and the one before it).
pub const DEFAULT_SCAN_DEPTH: usize = 2;
/// The deepest scan a book may ask for (SillyTavern's own ceiling).
pub const MAX_SCAN_DEPTH: usize = 1000;
/// Rounds of recursive scanning at most (each round can only add entries, so a book of n
/// entries settles within n rounds; this bounds a pathological one).
pub const MAX_RECURSION: usize = 16;

/// A lorebook as stored and used: only the entries that may be used (enabled, safe, with
/// something to say), with every setting resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Lorebook {
    /// How many of the latest messages are scanned for keys.
    pub scan_depth: usize,
    /// Tokens the activated entries may take together (never more than the caller allows);
    /// `None`: what the caller allows.
    pub token_budget: Option<usize>,
    /// Whether activated entries' text is scanned for further keys.
    pub recursive: bool,
    /// The usable entries, in the card's order.
    pub entries: Vec<Entry>,
}

/// One usable entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// How warnings and logs name it (its `name`, `comment` or `#index`).
    pub label: String,
    /// Primary keys: one of them must appear (unless the entry is constant).
    pub keys: Vec<Key>,
    /// Secondary keys, weighed by `logic` when the entry is selective.
    pub secondary: Vec<Key>,
    /// Whether the secondary keys count (`selective`).
    pub selective: bool,
    /// How the secondary keys count.
    pub logic: Logic,
    /// Always in the prompt, keys or not.
    pub constant: bool,
    /// The text that goes into the prompt (`{{char}}` expanded).
    pub content: String,
    /// `insertion_order`: lower goes first in its place.
    pub order: i64,
    /// Kept over lower priorities when the budget is short (`priority`, else the order).
    pub priority: i64,
    /// Where it goes.
    pub position: Position,
    /// Keys match only in the same case.
    pub case_sensitive: bool,
    /// Keys match only as whole words (at edges that are letters or digits).
    pub whole_words: bool,
    /// Chance in percent that a matched entry is used (100: always).
    pub probability: u8,
    /// This entry's own scan depth, instead of the book's.
    pub scan_depth: Option<usize>,
    /// Its text never activates other entries (recursion).
    pub prevent_recursion: bool,
    /// Only the messages can activate it, not other entries' text.
    pub exclude_recursion: bool,
    /// Its text also passes the picture rules, so it may shape a photo's scene.
    pub picture: bool,
}

/// Where an entry's text goes in the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Before the character's definition.
    BeforeChar,
    /// After the character's definition (the spec's default).
    #[default]
    AfterChar,
}

/// How a selective entry's secondary keys count (SillyTavern's `selectiveLogic` 0–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Logic {
    /// At least one secondary key appears (0).
    #[default]
    AndAny,
    /// Not every secondary key appears (1).
    NotAll,
    /// No secondary key appears (2).
    NotAny,
    /// Every secondary key appears (3).
    AndAll,
}

impl Logic {
    /// SillyTavern's number for it; `None` for an unknown one.
    pub fn from_number(n: i64) -> Option<Logic> {
        Some(match n {
            0 => Logic::AndAny,
            1 => Logic::NotAll,
            2 => Logic::NotAny,
            3 => Logic::AndAll,
            _ => return None,
        })
    }
}

/// A book as read from `girls.lorebook`: one this build cannot decode (written by a newer
/// build during a rolling upgrade) is no book, with a warning — never a failed turn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored(pub Option<Lorebook>);

impl<'de> Deserialize<'de> for Stored {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Stored(match serde_json::from_value(value) {
            Ok(book) => Some(book),
            Err(e) => {
                tracing::warn!(error = %e, "a stored lorebook this build cannot read is left out");
                None
            }
        }))
    }
}

/// A rough token count of lore text: about three characters a token, the estimate fn-reply
/// budgets its prompt with.
pub fn tokens(text: &str) -> usize {
    text.chars().count().div_ceil(3)
}
