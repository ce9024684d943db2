//! Activation: which entries the latest messages bring in, where they go, in what order, and
//! what the budget leaves out.

use serde_json::json;

use super::{book, entries, entry, scan, scan_with, texts, with};
use crate::personas::lorebook::{Position, Scan};

#[test]
fn a_key_in_the_recent_messages_activates_its_entry_and_older_messages_do_not() {
    let b = entries(json!([
        entry(&["Eldoria"], "Eldoria is a kingdom of floating islands."),
        entry(&["dragon", "wyrm"], "Dragons guard the sky bridges."),
    ]));
    assert_eq!(
        texts(&scan(&b, &["Tell me about Eldoria", "hi"])),
        ["Eldoria is a kingdom of floating islands."]
    );
    // The default depth is two messages: the one answered and the one before it.
    assert_eq!(
        texts(&scan(&b, &["ok", "a WYRM flew by!", "Eldoria?"])),
        ["Dragons guard the sky bridges."]
    );
    assert!(scan(&b, &["nothing here", "nor here"]).is_empty());
    assert!(scan(&b, &[]).is_empty());
}

#[test]
fn the_book_scan_depth_and_an_entry_scan_depth_set_how_far_back_keys_count() {
    let b = book(json!({"scan_depth": 3, "entries": [
        entry(&["harbour"], "The harbour smells of tar."),
        with(entry(&["lighthouse"], "The lighthouse is red."), json!({"extensions": {"scan_depth": 1}})),
    ]}));
    let older = ["one", "two", "the harbour and the lighthouse"];
    assert_eq!(texts(&scan(&b, &older)), ["The harbour smells of tar."]);
    assert_eq!(
        texts(&scan(&b, &["the lighthouse", "two"])),
        ["The lighthouse is red."]
    );
    let shallow = book(json!({"scan_depth": 0, "entries": [entry(&["harbour"], "Tar.")]}));
    assert!(scan(&shallow, &["the harbour"]).is_empty());
}

#[test]
fn keys_match_in_any_case_unless_the_entry_is_case_sensitive() {
    let b = entries(json!([
        entry(&["Mira"], "Mira hums when she cooks."),
        with(
            entry(&["NASA"], "She once toured NASA."),
            json!({"extensions": {"case_sensitive": true}})
        ),
        with(
            entry(&["Rome"], "She studied in Rome."),
            json!({"case_sensitive": true})
        ),
    ]));
    assert_eq!(
        texts(&scan(&b, &["MIRA, nasa, rome"])),
        ["Mira hums when she cooks."]
    );
    assert_eq!(
        texts(&scan(&b, &["NASA and Rome"])),
        ["She once toured NASA.", "She studied in Rome."]
    );
}

#[test]
fn keys_are_whole_words_unless_the_entry_says_otherwise() {
    let b = entries(json!([
        entry(&["cat"], "Mira has a grey cat called Smoke."),
        with(
            entry(&["sun"], "Sun: she loves sunsets."),
            json!({"extensions": {"match_whole_words": false}})
        ),
    ]));
    assert!(scan(&b, &["the category of concatenation"]).is_empty());
    assert_eq!(
        texts(&scan(&b, &["my cat!"])),
        ["Mira has a grey cat called Smoke."]
    );
    assert_eq!(texts(&scan(&b, &["Sunday"])), ["Sun: she loves sunsets."]);
}

#[test]
fn constant_entries_are_always_in_and_disabled_ones_never() {
    let b = entries(json!([
        with(
            entry(&[], "The story is set in Lisbon."),
            json!({"constant": true})
        ),
        with(entry(&["Lisbon"], "Disabled."), json!({"enabled": false})),
        entry(&["tram"], "Tram 28 rattles past her flat."),
    ]));
    assert_eq!(texts(&scan(&b, &[])), ["The story is set in Lisbon."]);
    assert_eq!(
        texts(&scan(&b, &["Lisbon by tram"])),
        [
            "The story is set in Lisbon.",
            "Tram 28 rattles past her flat."
        ]
    );
}

#[test]
fn secondary_keys_follow_the_selective_logic() {
    let e = |logic: i64| {
        let e = with(
            entry(&["Lyra"], "x"),
            json!({"secondary_keys": ["sword", "shield"]}),
        );
        with(
            e,
            json!({"content": format!("logic {logic}"), "extensions": {"selectiveLogic": logic}}),
        )
    };
    let b = entries(json!([e(0), e(1), e(2), e(3)]));
    let on = |text: &str| texts(&scan(&b, &[text])).join(",");
    assert_eq!(
        on("Lyra"),
        "logic 1,logic 2",
        "no secondary: NOT ALL, NOT ANY"
    );
    assert_eq!(
        on("Lyra's sword"),
        "logic 0,logic 1",
        "one: AND ANY, NOT ALL"
    );
    assert_eq!(
        on("Lyra: sword and shield"),
        "logic 0,logic 3",
        "all: AND ANY, AND ALL"
    );
    assert_eq!(
        on("a sword and a shield"),
        "",
        "never without a primary key"
    );
    // Not selective, or no secondary keys: the primary key is enough.
    let plain = entries(json!([
        with(
            entry(&["Lyra"], "not selective"),
            json!({"selective": false, "secondary_keys": ["sword"]})
        ),
        with(
            entry(&["Lyra"], "no secondaries"),
            json!({"secondary_keys": []})
        ),
    ]));
    assert_eq!(
        texts(&scan(&plain, &["Lyra"])),
        ["not selective", "no secondaries"]
    );
}

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
    // The spec's `priority` outranks the order; the book's own budget outranks the caller's.
    let b = book(json!({"token_budget": 12, "entries": [
        with(e(1, "pri"), json!({"priority": 50})), e(3, "ord"),
    ]}));
    let a = scan_with(&b, &["sea"], 1_000);
    assert_eq!(a.before.len(), 1);
    assert!(a.before[0].starts_with("pri"));
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

#[test]
fn regex_and_macro_keys_match_as_sillytavern_reads_them() {
    let b = entries(json!([
        entry(&[r"/\b(ice|snow)\s?storm\b/i"], "Storms close the pass."),
        entry(&["{{char}}'s diary"], "Mira writes her diary in green ink."),
        entry(&["{{user}}'s bike"], "Ann rides a blue bike."),
    ]));
    assert_eq!(
        texts(&scan(&b, &["an ICE STORM"])),
        ["Storms close the pass."]
    );
    assert_eq!(
        texts(&scan(&b, &["read mira's diary"])),
        ["Mira writes her diary in green ink."]
    );
    assert_eq!(
        texts(&scan(&b, &["grab ann's bike"])),
        ["Ann rides a blue bike."]
    );
}

#[test]
fn a_picture_scan_takes_only_entries_whose_text_may_shape_a_picture() {
    let mut b = entries(json!([
        entry(&["garden"], "The garden has roses."),
        entry(&["garden"], "Fine.")
    ]));
    b.entries[1].picture = false;
    let scan = |picture| {
        b.activate(&Scan {
            newest_first: &["garden"],
            user: "Ann",
            budget: 100,
            seed: 1,
            picture,
        })
    };
    assert_eq!(scan(false).before.len(), 2);
    assert_eq!(scan(true).before, ["The garden has roses."]);
}
