//! Reading a card's `data.character_book` into a [`Lorebook`]. Each entry is read on its own,
//! so one that cannot be used is left out — named, with the reason, in a warning and in the
//! result — and the rest of the book (and the card) still loads: an entry that is not an
//! object, no keys on an entry that is not constant, or text that fails the minor-safety
//! scan. Fields are read leniently (`null` as absent, numbers and flags written as strings);
//! a regex key this crate cannot compile (look-around) is plain text, as in SillyTavern.
//! The card's screen (`screen`) has already refused a card any of whose words points to a
//! minor; an entry is read once more, stricter, as the chat rule reads a message in an adult
//! dialog — a family word on its own ("the kids next door") leaves it out, since the entry
//! may be shown in one — and its content with the picture rules, to decide whether it may
//! shape a photo's scene. Disabled and empty entries
//! are simply never used; V3 decorator lines are read off the content (`decorated`).
//! SillyTavern's own fields under `extensions` are honoured: `position` (0 before, 1 after the
//! character; its other places come after it here), `selectiveLogic`, `match_whole_words`,
//! `case_sensitive`, `probability` with `useProbability`, `scan_depth`, `prevent_recursion`,
//! `exclude_recursion`.

use serde_json::{Map, Value};

use super::super::macros::{expand_char, expand_simple};
use super::keys::Key;
use super::raw::{RawEntry, flag, number};
use super::{DEFAULT_SCAN_DEPTH, Entry, Logic, Lorebook, MAX_SCAN_DEPTH, Position};
use crate::content::safety;

/// An entry left out of a book, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Where it is: `data.character_book.entries[3] ("Harbour")`.
    pub entry: String,
    /// Why it is not used.
    pub reason: String,
}

/// A card's book as read: the usable book (`None` when nothing in it can be used) and what
/// was left out. Every left-out entry is also logged as a warning naming `file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    /// The usable book.
    pub book: Option<Lorebook>,
    /// What was left out.
    pub dropped: Vec<Dropped>,
}

/// The usable part of `book` (the card's `data.character_book`, if any) of the card in
/// `file`, whose `{{char}}` is `called`.
pub fn from_card(file: &str, book: Option<&Value>, called: &str) -> Read {
    let mut dropped = Vec::new();
    let book = book
        .filter(|b| !b.is_null())
        .and_then(|b| read_book(b, called, &mut dropped));
    for d in &dropped {
        tracing::warn!(file, entry = %d.entry, reason = %d.reason, "lorebook entry left out");
    }
    Read { book, dropped }
}

fn read_book(book: &Value, called: &str, dropped: &mut Vec<Dropped>) -> Option<Lorebook> {
    let mut drop = |entry: String, reason: &str| {
        let reason = reason.to_owned();
        dropped.push(Dropped { entry, reason });
    };
    let Some(fields) = book.as_object() else {
        drop("data.character_book".into(), "is not an object");
        return None;
    };
    let raw_entries = match fields.get("entries") {
        Some(Value::Array(list)) => list.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => {
            drop("data.character_book.entries".into(), "is not a list");
            return None;
        }
    };
    let mut entries = Vec::new();
    for (i, raw) in raw_entries.iter().enumerate() {
        let at = format!("data.character_book.entries[{i}]");
        let r = match RawEntry::read(raw) {
            Ok(r) => r,
            Err(e) => {
                drop(at, &e);
                continue;
            }
        };
        let label = r
            .name
            .iter()
            .chain(&r.comment)
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .map_or_else(|| format!("#{i}"), str::to_owned);
        match entry(r, label.clone(), called) {
            Ok(e) => entries.extend(e),
            Err(reason) => drop(format!("{at} ({label:?})"), &reason),
        }
    }
    if entries.is_empty() {
        return None;
    }
    let count = |k: &str| fields.get(k).and_then(Value::as_f64).filter(|n| *n >= 0.0);
    Some(Lorebook {
        scan_depth: count("scan_depth")
            .map_or(DEFAULT_SCAN_DEPTH, |n| (n as usize).min(MAX_SCAN_DEPTH)),
        token_budget: count("token_budget").map(|n| n as usize).filter(|n| *n > 0),
        recursive: fields
            .get("recursive_scanning")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        entries,
    })
}

/// One entry resolved: `None` when it is never used (disabled, nothing to say), an error
/// when it cannot be used.
fn entry(r: RawEntry, label: String, called: &str) -> Result<Option<Entry>, String> {
    let ext = &r.extensions;
    let flag = |k: &str| ext.get(k).and_then(flag);
    let (decorators, text) = decorated(&r.content);
    let content = expand_char(expand_simple(text).trim(), called);
    if r.enabled == Some(false) || content.is_empty() || decorators.contains(&"@@dont_activate") {
        return Ok(None);
    }
    let keys = usable_keys(&r.keys, called)?;
    let secondary = usable_keys(&r.secondary_keys, called)?;
    let constant = r.constant.unwrap_or(false) || decorators.contains(&"@@activate");
    if keys.is_empty() && !constant {
        return Err("has no keys and is not constant, so it would never be used".into());
    }
    if let Some(hit) = safety::check(&content) {
        return Err(format!(
            "content suggests a minor ({} rule)",
            hit.rule.as_str()
        ));
    }
    let order = r.insertion_order.unwrap_or(0.0) as i64;
    Ok(Some(Entry {
        picture: safety::check_picture(&content).is_none(),
        label,
        keys,
        secondary,
        selective: r.selective.unwrap_or(false),
        logic: logic(ext)?,
        constant,
        content,
        order,
        priority: r.priority.map_or(order, |p| p as i64),
        position: position(ext, r.position.as_deref()),
        case_sensitive: r.case_sensitive.or(flag("case_sensitive")).unwrap_or(false),
        // SillyTavern's default (its global setting, off) when the entry does not say.
        whole_words: flag("match_whole_words").unwrap_or(false),
        probability: probability(ext),
        scan_depth: ext
            .get("scan_depth")
            .and_then(Value::as_f64)
            .filter(|d| *d >= 0.0)
            .map(|d| (d as usize).min(MAX_SCAN_DEPTH)),
        prevent_recursion: flag("prevent_recursion").unwrap_or(false),
        exclude_recursion: flag("exclude_recursion").unwrap_or(false),
    }))
}

/// Character Card V3 decorators, the `@@name value` lines an entry's content may begin with,
/// by name, and the text after them. They are not text for the model: `@@activate` makes the
/// entry constant and `@@dont_activate` turns it off; the others (`@@depth`, `@@role`, …, and
/// `@@@` fallbacks) are not read here.
fn decorated(content: &str) -> (Vec<&str>, &str) {
    let mut names = Vec::new();
    let mut rest = content.trim();
    while rest.starts_with("@@") {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        names.extend(line.split_whitespace().next());
        rest = after.trim_start();
    }
    (names, rest.trim_end())
}

/// The usable keys of `list`: each passes the minor-safety scan, blank ones go.
fn usable_keys(list: &[String], called: &str) -> Result<Vec<Key>, String> {
    let mut out = Vec::new();
    for k in list {
        if let Some(hit) = safety::check(k).or_else(|| safety::check(&unescaped(k))) {
            return Err(format!(
                "key {k:?} suggests a minor ({} rule)",
                hit.rule.as_str()
            ));
        }
        let k = expand_char(&expand_simple(k), called);
        match Key::read(&k) {
            Ok(key) => out.extend(key),
            // As SillyTavern does with a pattern it cannot compile: the key is plain text.
            Err(bad) => {
                tracing::warn!(key = %bad.key, reason = %bad.reason, "regex key read as text");
                out.push(Key::Text(k.trim().to_owned()));
            }
        }
    }
    Ok(out)
}

/// A key with regex syntax blanked (`/\bschool ?girls?\b/i` → words the scan can read).
fn unescaped(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
                out.push(' ');
            }
            '(' | ')' | '[' | ']' | '{' | '}' | '?' | '*' | '+' | '|' | '^' | '$' | '.' | '/' => {}
            c => out.push(c),
        }
    }
    out
}

/// SillyTavern's `extensions.position` (0: before the character; its other places come after
/// it here), else the spec's `position`.
fn position(ext: &Map<String, Value>, spec: Option<&str>) -> Position {
    match ext.get("position").and_then(number).map(|n| n as i64) {
        Some(0) => Position::BeforeChar,
        Some(_) => Position::AfterChar,
        None if spec == Some("before_char") => Position::BeforeChar,
        None => Position::AfterChar,
    }
}

/// `extensions.selectiveLogic`, AND ANY when absent.
fn logic(ext: &Map<String, Value>) -> Result<Logic, String> {
    match ext.get("selectiveLogic") {
        None | Some(Value::Null) => Ok(Logic::AndAny),
        Some(v) => number(v)
            .filter(|n| n.fract() == 0.0)
            .and_then(|n| Logic::from_number(n as i64))
            .ok_or_else(|| format!("extensions.selectiveLogic {v} is not 0, 1, 2 or 3")),
    }
}

/// `extensions.probability` in percent; 100 when absent or when `useProbability` is off.
fn probability(ext: &Map<String, Value>) -> u8 {
    if ext.get("useProbability").and_then(Value::as_bool) == Some(false) {
        return 100;
    }
    ext.get("probability")
        .and_then(Value::as_f64)
        .map_or(100, |p| p.clamp(0.0, 100.0) as u8)
}
