//! The lorebook against books written the way SillyTavern writes them: reading a card's
//! `character_book` (what is kept, what is left out and why) and activation (keys in recent
//! messages, secondary keys, constant entries, budget, case, words, depth, recursion).

mod activation;
mod order;
mod reading;

use serde_json::{Value, json};

use super::{Activated, Lorebook, Read, Scan, from_card};

/// Reads `book` as the `character_book` of a card named Mira.
fn read(book: Value) -> Read {
    from_card("mira.json", Some(&book), "Mira")
}

/// The usable book of `book`, which must have one.
fn book(book: Value) -> Lorebook {
    let r = read(book);
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    r.book.expect("a usable book")
}

/// A book of `entries` with the defaults.
fn entries(entries: Value) -> Lorebook {
    book(json!({ "entries": entries }))
}

/// An entry as SillyTavern exports it, keyed by `keys`, saying `content`.
fn entry(keys: &[&str], content: &str) -> Value {
    json!({
        "keys": keys, "secondary_keys": [], "content": content, "enabled": true,
        "insertion_order": 100, "constant": false, "selective": true, "position": "before_char",
        "use_regex": true, "extensions": {"position": 0, "selectiveLogic": 0, "probability": 100,
        "useProbability": true, "case_sensitive": null, "match_whole_words": null, "scan_depth": null}
    })
}

/// `entry` with `patch`'s fields set (extensions merged).
fn with(mut e: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if k == "extensions" {
            for (ek, ev) in v.as_object().unwrap() {
                e["extensions"][ek] = ev.clone();
            }
        } else {
            e[k] = v.clone();
        }
    }
    e
}

/// What `book` activates on `newest_first` with a large budget.
fn scan(book: &Lorebook, newest_first: &[&str]) -> Activated {
    scan_with(book, newest_first, 10_000)
}

/// What `book` activates on `newest_first` with `budget` tokens (unless the book sets one).
fn scan_with(book: &Lorebook, newest_first: &[&str], budget: usize) -> Activated {
    book.activate(&Scan {
        newest_first,
        user: "Ann",
        budget,
        seed: 7,
        picture: false,
    })
}

/// Every activated text in order, before-entries first.
fn texts(a: &Activated) -> Vec<&str> {
    a.texts().collect()
}
