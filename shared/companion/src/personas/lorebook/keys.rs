//! A lorebook key and how it is found in the scanned text. A plain key matches as a substring,
//! in any case unless the entry is case-sensitive, and — for whole-word entries — only where
//! the text around it does not run on: a key that begins (ends) with a letter, digit or `_`
//! needs something else, or the text's edge, before (after) it, so "cat" is not found in
//! "category" while "Dr." is found in "Dr.Smith". Unlike SillyTavern (whose word test knows
//! only ASCII), letters of every script count. A key written `/pattern/flags` is a regular
//! expression (flags `i`, `m`, `s`; `g`, `u`, `y` change nothing here) and matches as written,
//! whatever the entry's case and word settings — SillyTavern's rule.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};

/// Largest compiled size of a key's regular expression.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Compiled regex keys kept at most.
const REGEX_CACHE: usize = 1024;

/// One key of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    /// Plain text (`{{char}}` expanded; `{{user}}` is expanded when scanning).
    Text(String),
    /// A regular expression in this crate's syntax, its flags inlined (`(?i)…`).
    Regex(String),
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key {key:?} is not a usable regular expression: {reason}")]
pub struct BadKey {
    /// The key as written.
    pub key: String,
    /// What the regex engine said.
    pub reason: String,
}

impl Key {
    /// Reads a key as written in a card: `None` for a blank one. Only `/pattern/flags` is a
    /// regex: Character Card V3's `use_regex` is not read, since SillyTavern writes it `true`
    /// on every entry it exports while its keys stay plain text.
    pub fn read(raw: &str) -> Result<Option<Key>, BadKey> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let Some((pattern, flags)) = slashed(raw) else {
            return Ok(Some(Key::Text(raw.to_owned())));
        };
        let inline: String = flags.chars().filter(|f| "ims".contains(*f)).collect();
        let pattern = pattern.replace("\\/", "/");
        let source = if inline.is_empty() {
            pattern
        } else {
            format!("(?{inline}){pattern}")
        };
        compile(&source).map_err(|reason| BadKey {
            key: raw.to_owned(),
            reason,
        })?;
        Ok(Some(Key::Regex(source)))
    }

    /// Whether the key is found in `text`, under the entry's case and word settings.
    pub(super) fn found(&self, text: &Text<'_>, case_sensitive: bool, whole_words: bool) -> bool {
        match self {
            Key::Regex(source) => compiled(source).is_some_and(|r| r.is_match(text.raw)),
            Key::Text(key) => {
                let key = super::super::expand_user(key, text.user);
                let (hay, needle) = if case_sensitive {
                    (text.raw, key)
                } else {
                    (text.lower.as_str(), key.to_lowercase())
                };
                find(hay, &needle, whole_words)
            }
        }
    }
}

/// Text scanned for keys, with its lowercase made once.
pub(super) struct Text<'a> {
    raw: &'a str,
    lower: String,
    user: &'a str,
}

impl<'a> Text<'a> {
    /// `raw` to scan; `user` is the user's name for `{{user}}` in keys.
    pub(super) fn new(raw: &'a str, user: &'a str) -> Self {
        Text {
            raw,
            lower: raw.to_lowercase(),
            user,
        }
    }
}

/// `/pattern/flags` split, as SillyTavern recognises it: the pattern holds no unescaped `/`
/// and the flags are JavaScript's.
fn slashed(raw: &str) -> Option<(&str, &str)> {
    let body = raw.strip_prefix('/')?;
    let end = body.rfind('/')?;
    let (pattern, flags) = (&body[..end], &body[end + 1..]);
    if pattern.is_empty() || !flags.chars().all(|f| "gimsuy".contains(f)) {
        return None;
    }
    let mut escaped = false;
    for c in pattern.chars() {
        match c {
            '/' if !escaped => return None,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    Some((pattern, flags))
}

fn compile(source: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(source)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

/// Regex keys compiled once per process: they come from the persona cards alone, so there are
/// few; the cap only guards against a pathological set of books.
fn compiled(source: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let lock = || cache.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(r) = lock().get(source) {
        return Some(r.clone());
    }
    let r = compile(source).ok()?;
    let mut cache = lock();
    if cache.len() >= REGEX_CACHE {
        cache.clear();
    }
    cache.insert(source.to_owned(), r.clone());
    Some(r)
}

fn wordy(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `needle` occurs in `hay`; with `whole_words`, only where it does not run on into a
/// word at an edge that is itself part of a word.
fn find(hay: &str, needle: &str, whole_words: bool) -> bool {
    if needle.is_empty() {
        return false;
    }
    if !whole_words {
        return hay.contains(needle);
    }
    let starts_wordy = needle.chars().next().is_some_and(wordy);
    let ends_wordy = needle.chars().next_back().is_some_and(wordy);
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        let runs_on_before = starts_wordy && before.is_some_and(wordy);
        let runs_on_after = ends_wordy && after.is_some_and(wordy);
        !(runs_on_before || runs_on_after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(key: &str, text: &str, case_sensitive: bool, whole: bool) -> bool {
        let k = Key::read(key).unwrap().unwrap();
        k.found(&Text::new(text, "Ann"), case_sensitive, whole)
    }

    #[test]
    fn plain_keys_match_in_any_case_and_as_whole_words() {
        assert!(found("Tavern", "we met at the old TAVERN.", false, true));
        assert!(!found("Tavern", "we met at the old TAVERN.", true, true));
        assert!(!found("cat", "the category is wrong", false, true));
        assert!(found("cat", "the category is wrong", false, false));
        assert!(found("Dr.", "ask Dr.Smith", false, true));
        assert!(found("red moon", "under the Red Moon tonight", false, true));
        assert!(!found("кот", "у меня котик", false, true));
        assert!(found("кот", "Кот спит", false, true));
        assert!(found(
            "{{user}}'s flat",
            "we went to ann's flat",
            false,
            true
        ));
        assert!(!found("snow_fox", "the snow_foxes", false, true));
    }

    #[test]
    fn slashed_keys_are_regular_expressions_that_ignore_the_entry_settings() {
        assert!(found(r"/\bharbou?r\b/i", "The HARBOR at dawn", true, true));
        assert!(!found(r"/\bharbou?r\b/", "The HARBOR at dawn", false, true));
        assert!(found(r"/sil(ver|k)/", "silken dress", false, true));
        assert!(found(r"/a\/b/", "path a/b", false, true));
        // Not a regex: an unescaped slash inside, or unknown flags — a plain key then.
        assert_eq!(Key::read("/a/b/").unwrap(), Some(Key::Text("/a/b/".into())));
        assert_eq!(Key::read("/ab/x").unwrap(), Some(Key::Text("/ab/x".into())));
        assert!(Key::read("/(unclosed/").is_err());
        assert_eq!(Key::read("  ").unwrap(), None);
    }

    #[test]
    fn a_plain_key_with_regex_characters_is_plain_text() {
        let k = Key::read("c++ (v2)").unwrap().unwrap();
        assert!(k.found(&Text::new("I code in C++ (v2) daily", "Ann"), false, true));
        assert!(!k.found(&Text::new("I code in ccc v2", "Ann"), false, false));
    }
}
