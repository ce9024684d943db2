//! Activation, what is kept of it: where entries go and in what order, what the budget leaves
//! out, recursion, and probability.

use serde_json::json;

use super::{book, entries, entry, scan, scan_with, texts, with};
use crate::personas::lorebook::{Position, Scan};

#[test]
fn entries_go_to_their_position_in_insertion_order() {
    let b = entries(json!([
        with(
            entry(&["tea"], "after 20"),
            json!({"insertion_order": 20, "position": "after_char", "extensions": {"position": 1}})
        ),
        with(entry(&["tea"], "before 5"), json!({"insertion_order": 5})),
        with(
            entry(&["tea"], "after 10"),
            json!({"insertion_order": 10, "extensions": {"position": 1}})
        ),
        with(entry(&["tea"], "before 1"), json!({"insertion_order": 1})),
        // SillyTavern's other places (here: at depth) come after the character.
        with(
            entry(&["tea"], "depth 15"),
            json!({"insertion_order": 15, "extensions": {"position": 4}})
        ),
    ]));
    let a = scan(&b, &["tea?"]);
    assert_eq!(a.before, ["before 1", "before 5"]);
    assert_eq!(a.after, ["after 10", "depth 15", "after 20"]);
    assert_eq!(
        a.around("You are Mira."),
        "before 1\n\nbefore 5\n\nYou are Mira.\n\nafter 10\n\ndepth 15\n\nafter 20"
    );
    // A card without SillyTavern's extensions: the spec's position names.
    let spec = entries(json!([
        {"keys": ["tea"], "content": "A", "enabled": true, "insertion_order": 0, "position": "after_char", "extensions": {}},
        {"keys": ["tea"], "content": "B", "enabled": true, "insertion_order": 0, "position": "before_char", "extensions": {}},
        {"keys": ["tea"], "content": "C", "enabled": true, "insertion_order": 0, "extensions": {}},
    ]));
    assert_eq!(spec.entries[2].position, Position::AfterChar);
    let a = scan(&spec, &["tea"]);
    assert_eq!(
        (a.before, a.after),
        (vec!["B".to_owned()], vec!["A".to_owned(), "C".to_owned()])
    );
}

#[test]
fn the_budget_leaves_out_the_lowest_priorities_first() {
    let ten = "a".repeat(30); // 10 tokens
    let e = |order: i64, tag: &str| {
        with(
            entry(&["sea"], &format!("{tag}{ten}")),
            json!({"insertion_order": order}),
        )
    };
    let b = entries(json!([e(1, "low"), e(3, "high"), e(2, "mid")]));
    let kept = |budget| {
        scan_with(&b, &["the sea"], budget)
            .before
            .iter()
            .map(|t| t[..3].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(kept(100), ["low", "mid", "hig"]);
    assert_eq!(kept(25), ["mid", "hig"], "the lowest order goes first");
    assert_eq!(kept(13), ["hig"]);
    assert!(kept(5).is_empty());
    // The spec's `priority` outranks the order; the book's own budget may lower the caller's...
    let b = book(json!({"token_budget": 12, "entries": [
        with(e(1, "pri"), json!({"priority": 50})), e(3, "ord"),
    ]}));
    let a = scan_with(&b, &["sea"], 1_000);
    assert_eq!(a.before.len(), 1);
    assert!(a.before[0].starts_with("pri"));
    // ...but never raise it.
    assert!(scan_with(&b, &["sea"], 5).before.is_empty());
    // A constant entry counts against the budget like any other.
    let b = entries(json!([
        with(e(9, "con"), json!({"constant": true})),
        e(1, "key"),
    ]));
    assert_eq!(scan_with(&b, &["sea"], 15).before.len(), 1);
}

#[test]
fn recursive_scanning_is_off_unless_the_book_turns_it_on() {
    let list = json!([
        entry(&["castle"], "The castle belongs to the Duke of Vey."),
        entry(&["Duke"], "The Duke collects clocks."),
        with(
            entry(&["clocks"], "Clocks chime at noon."),
            json!({"extensions": {"exclude_recursion": true}})
        ),
        with(
            entry(&["Vey"], "Vey is a mountain town. Its castle is old."),
            json!({"extensions": {"prevent_recursion": true}})
        ),
        entry(&["town"], "The town square has a fountain."),
    ]);
    let flat = entries(list.clone());
    assert_eq!(texts(&scan(&flat, &["the castle"])).len(), 1);
    let deep = book(json!({"recursive_scanning": true, "entries": list}));
    assert_eq!(
        texts(&scan(&deep, &["the castle"])),
        [
            "The castle belongs to the Duke of Vey.",
            "The Duke collects clocks.",
            "Vey is a mountain town. Its castle is old."
        ],
        "clocks exclude recursion; Vey's text wakes nothing"
    );
}

#[test]
fn probability_keeps_an_entry_as_often_as_it_says_and_the_same_seed_rolls_the_same() {
    let b = entries(json!([
        with(
            entry(&["rain"], "never"),
            json!({"extensions": {"probability": 0}})
        ),
        with(
            entry(&["rain"], "unused roll"),
            json!({"extensions": {"probability": 0, "useProbability": false}})
        ),
        with(
            entry(&["rain"], "half"),
            json!({"extensions": {"probability": 50}})
        ),
    ]));
    let roll = |seed| {
        b.activate(&Scan {
            newest_first: &["rain"],
            user: "Ann",
            budget: 100,
            seed,
            picture: false,
        })
    };
    let halves = (0..200u64)
        .filter(|s| roll(*s).before.contains(&"half".to_owned()))
        .count();
    assert!((60..140).contains(&halves), "{halves}");
    assert!((0..50u64).all(|s| {
        let a = roll(s);
        a.before.contains(&"unused roll".to_owned()) && !a.before.contains(&"never".to_owned())
    }));
    assert_eq!(roll(11), roll(11));
}
