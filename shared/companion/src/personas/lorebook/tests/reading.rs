//! Reading a card's book: the settings, SillyTavern's extensions, and the entries left out —
//! each named with its reason while the rest of the book still loads.

use serde_json::json;

use super::{book, entry, read, with};
use crate::personas::lorebook::{DEFAULT_SCAN_DEPTH, Key, Logic, Position};

#[test]
fn a_sillytavern_export_reads_with_its_settings_and_extensions() {
    let b = book(json!({
        "name": "Mira's world", "scan_depth": 4, "token_budget": 300, "recursive_scanning": true,
        "extensions": {},
        "entries": [with(entry(&["Harbour", " ", "{{char}}'s boat"], "{{char}} keeps her boat at the harbour."), json!({
            "id": 3, "comment": "Harbour", "secondary_keys": ["boat"], "insertion_order": 40,
            "priority": 7, "extensions": {"selectiveLogic": 3, "probability": 60,
            "match_whole_words": false, "case_sensitive": true, "scan_depth": 6,
            "prevent_recursion": true, "exclude_recursion": true, "position": 1}
        }))]
    }));
    assert_eq!(
        (b.scan_depth, b.token_budget, b.recursive),
        (4, Some(300), true)
    );
    let e = &b.entries[0];
    assert_eq!(e.label, "Harbour");
    assert_eq!(
        e.keys,
        [Key::Text("Harbour".into()), Key::Text("Mira's boat".into())],
        "blank keys go, {{{{char}}}} is expanded, `use_regex` does not make plain keys patterns"
    );
    assert_eq!(e.content, "Mira keeps her boat at the harbour.");
    assert_eq!(
        (e.logic, e.selective, e.position),
        (Logic::AndAll, true, Position::AfterChar)
    );
    assert_eq!(
        (e.order, e.priority, e.probability, e.scan_depth),
        (40, 7, 60, Some(6))
    );
    assert!(e.case_sensitive && !e.whole_words && e.prevent_recursion && e.exclude_recursion);
    assert!(e.picture && !e.constant);
}

#[test]
fn a_bare_spec_book_takes_the_defaults() {
    let b = book(json!({"entries": [
        {"keys": ["tea"], "content": "Mira drinks jasmine tea.", "enabled": true,
         "insertion_order": 0, "extensions": {}}
    ]}));
    assert_eq!(
        (b.scan_depth, b.token_budget, b.recursive),
        (DEFAULT_SCAN_DEPTH, None, false)
    );
    let e = &b.entries[0];
    assert_eq!(
        (e.logic, e.position, e.probability, e.priority),
        (Logic::AndAny, Position::AfterChar, 100, 0)
    );
    assert!(!e.case_sensitive && !e.whole_words && !e.selective && e.scan_depth.is_none());
}

#[test]
fn disabled_and_empty_entries_are_never_used_and_a_book_of_nothing_is_none() {
    let r = read(json!({"entries": [
        with(entry(&["tea"], "Disabled."), json!({"enabled": false})),
        entry(&["tea"], "   "),
    ]}));
    assert_eq!((r.book, r.dropped.len()), (None, 0));
    assert_eq!(read(json!({"entries": []})).book, None);
    assert_eq!(super::from_card("mira.json", None, "Mira").book, None);
    assert_eq!(
        super::from_card("mira.json", Some(&json!(null)), "Mira").book,
        None
    );
}

#[test]
fn an_entry_that_cannot_be_used_is_left_out_by_name_and_the_rest_loads() {
    let r = read(json!({"entries": [
        json!("not an entry"),
        with(entry(&[], "Never used."), json!({"comment": "Keyless"})),
        with(entry(&["tea"], "Odd logic."), json!({"extensions": {"selectiveLogic": 9}})),
        entry(&["tea"], "Mira drinks jasmine tea."),
    ]}));
    let book = r.book.expect("the good entry loads");
    assert_eq!(book.entries.len(), 1);
    let said: Vec<String> = r
        .dropped
        .iter()
        .map(|d| format!("{}: {}", d.entry, d.reason))
        .collect();
    assert_eq!(said.len(), 3, "{said:#?}");
    assert_eq!(said[0], "data.character_book.entries[0]: is not an object");
    assert!(
        said[1].starts_with("data.character_book.entries[1] (\"Keyless\"): has no keys"),
        "{}",
        said[1]
    );
    assert!(
        said[2].starts_with("data.character_book.entries[2] (\"#2\"): extensions.selectiveLogic 9"),
        "{}",
        said[2]
    );
    // A book that is not an object, or whose entries are not a list, is named too.
    assert_eq!(read(json!("lore")).dropped[0].entry, "data.character_book");
    assert_eq!(
        read(json!({"entries": {"0": {}}})).dropped[0].reason,
        "is not a list"
    );
}

#[test]
fn entries_that_suggest_a_minor_are_left_out_and_the_picture_rules_decide_the_scene() {
    let r = read(json!({"entries": [
        with(entry(&["party"], "At the party everyone is a 15 year old girl."), json!({"comment": "Party"})),
        with(entry(&["schoolgirl"], "A costume."), json!({"comment": "Costume"})),
        with(entry(&["pool"], "x"), json!({"comment": "Pool", "secondary_keys": ["underage"]})),
        entry(&["sister"], "Her sister's kids visit on Sundays."),
        entry(&["garden"], "The garden is full of white roses."),
    ]}));
    let said: Vec<&str> = r.dropped.iter().map(|d| d.entry.as_str()).collect();
    assert_eq!(
        said,
        [
            "data.character_book.entries[0] (\"Party\")",
            "data.character_book.entries[1] (\"Costume\")",
            "data.character_book.entries[2] (\"Pool\")"
        ],
        "{:?}",
        r.dropped
    );
    assert!(r.dropped[0].reason.starts_with("content suggests a minor"));
    assert!(
        r.dropped[1]
            .reason
            .starts_with("key \"schoolgirl\" suggests a minor")
    );
    let book = r.book.unwrap();
    let picture: Vec<(&str, bool)> = book
        .entries
        .iter()
        .map(|e| (e.content.as_str(), e.picture))
        .collect();
    assert_eq!(
        picture,
        [
            ("Her sister's kids visit on Sundays.", false),
            ("The garden is full of white roses.", true)
        ]
    );
}

#[test]
fn the_stored_book_reads_back_the_same() {
    let b = book(json!({"scan_depth": 3, "entries": [
        entry(&["/tea|coffee/i", "cup"], "Mira drinks jasmine tea.")
    ]}));
    let json = serde_json::to_value(&b).unwrap();
    assert_eq!(serde_json::from_value::<super::Lorebook>(json).unwrap(), b);
}

#[test]
fn a_card_keeps_its_book_with_the_persona() {
    let card = json!({
        "spec": "chara_card_v3", "spec_version": "3.0",
        "data": {"name": "Mira", "nickname": "Mimi", "first_mes": "Hi!",
                 "extensions": {"companion": {"age": 30}},
                 "character_book": {"entries": [entry(&["tea"], "{{char}} drinks jasmine tea.")]}}
    });
    let p = crate::personas::parse("mira.json", "mira", card.to_string().as_bytes()).unwrap();
    let book = p.lorebook.expect("the book");
    assert_eq!(book.entries[0].content, "Mimi drinks jasmine tea.");
    let none = json!({"spec": "chara_card_v2", "data": {"name": "Mira", "first_mes": "Hi!",
                      "extensions": {"companion": {"age": 30}}}});
    let p = crate::personas::parse("mira.json", "mira", none.to_string().as_bytes()).unwrap();
    assert_eq!(p.lorebook, None);
}

#[test]
fn v3_decorators_are_read_off_the_content() {
    let b = book(json!({"entries": [
        entry(&[], "@@activate\n@@depth 4\nThe moon over Vey is red."),
        entry(&["tea"], "@@dont_activate\nNever."),
        entry(&["tea"], "@@@role system\nMira drinks jasmine tea."),
    ]}));
    let kept: Vec<(&str, bool)> = b
        .entries
        .iter()
        .map(|e| (e.content.as_str(), e.constant))
        .collect();
    assert_eq!(
        kept,
        [
            ("The moon over Vey is red.", true),
            ("Mira drinks jasmine tea.", false)
        ]
    );
}

#[test]
fn odd_field_types_are_read_for_what_they_say_as_sillytavern_does() {
    let r = read(json!({"entries": [
        {"keys": "tea, coffee", "content": "Mira drinks jasmine tea.", "extensions": null,
         "insertion_order": "10", "enabled": "true", "name": 3, "position": 0,
         "secondary_keys": null},
        {"keys": ["cake", null, 5], "content": "She bakes on Sundays.",
         "extensions": {"selectiveLogic": 1.0, "position": "1"}},
        {"keys": ["tea", "/cof(?!fee)/i"], "content": "Look-around is read as text."},
        {"keys": null, "content": null},
    ]}));
    let book = r.book.expect("entries load");
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    let e = &book.entries;
    assert_eq!(e.len(), 3);
    assert_eq!(
        (e[0].label.as_str(), e[0].order, e[0].position),
        ("3", 10, Position::BeforeChar)
    );
    assert_eq!(e[0].keys.len(), 2);
    assert_eq!((e[1].keys.len(), e[1].logic), (2, Logic::NotAll));
    assert_eq!(e[2].keys.len(), 2);
}

#[test]
fn a_stored_book_this_build_cannot_read_is_no_book() {
    let stored: super::super::Stored =
        serde_json::from_value(json!({"scan_depth": "deep", "entries": 3})).unwrap();
    assert_eq!(stored.0, None);
}
