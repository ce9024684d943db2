//! Activation: which entries the latest messages bring in — keys within the scan depth, case,
//! whole words, constant and disabled entries, secondary keys, regex and macro keys.

use serde_json::json;

use super::{book, entries, entry, scan, texts, with};
use crate::personas::lorebook::Scan;

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
fn keys_are_whole_words_when_the_entry_says_so_and_substrings_by_default() {
    let b = entries(json!([
        with(
            entry(&["cat"], "Mira has a grey cat called Smoke."),
            json!({"extensions": {"match_whole_words": true}})
        ),
        with(
            entry(&["sun"], "Sun: she loves sunsets."),
            json!({"extensions": {"match_whole_words": null}})
        ),
        entry(&["東京"], "She grew up in Tokyo."),
        entry(&["Москв"], "She studied in Moscow."),
    ]));
    assert!(scan(&b, &["the category of concatenation"]).is_empty());
    assert_eq!(
        texts(&scan(&b, &["明日東京に行く"])),
        ["She grew up in Tokyo."]
    );
    assert_eq!(
        texts(&scan(&b, &["я из Москвы"])),
        ["She studied in Moscow."]
    );
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
