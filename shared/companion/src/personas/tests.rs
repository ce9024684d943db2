//! Card parsing: JSON and PNG, V2 and V3, bad cards, macros, greetings by language, and the
//! shipped personas (all loading, exported and read back).

use std::path::Path;

use super::*;

fn card(spec: &str, age: &str, extra: &str) -> String {
    format!(
        r#"{{"spec":"{spec}","spec_version":"2.0","data":{{"name":"Mira","description":"{{{{Char}}}} paints.",
        "first_mes":"Hi {{{{user}}}}, I'm <BOT>.","creator_notes":"SECRET NOTE","mes_example":"<START>\n{{{{user}}}}: hi\n{{{{char}}}}: hey",
        "post_history_instructions":"Answer as {{{{char}}}}.","alternate_greetings":["Yo {{{{user}}}}"]{extra},
        "extensions":{{"companion":{{"age":{age},"pitch":{{"en":"Painter"}}}},"other":{{"k":1}}}}}}}}"#
    )
}

#[test]
fn adult_card_loads_with_macros_expanded_and_notes_left_out() {
    let p = parse(
        "mira.json",
        "mira",
        card("chara_card_v2", "24", "").as_bytes(),
    )
    .unwrap();
    assert_eq!(p.age, 24);
    assert!(p.system_prompt.contains("Mira paints."));
    assert!(
        p.system_prompt
            .contains("Every character in this conversation is an adult")
    );
    assert!(
        p.system_prompt.contains("{{user}}: hi\nMira: hey"),
        "{}",
        p.system_prompt
    );
    assert!(
        p.system_prompt.starts_with("You are Mira"),
        "default system prompt"
    );
    assert!(!p.system_prompt.contains("SECRET NOTE"));
    assert_eq!(p.greeting, "Hi {{user}}, I'm Mira.");
    assert_eq!(p.alternate_greetings, vec!["Yo {{user}}"]);
    assert_eq!(p.post_history, "Answer as Mira.");
    assert_eq!(p.pitch["en"], "Painter");
    assert_eq!(
        p.card["data"]["extensions"]["other"]["k"], 1,
        "unknown keys kept"
    );
}

#[test]
fn v3_cards_load_and_the_nickname_stands_for_char() {
    let text = card(
        "chara_card_v3",
        "30",
        r#","nickname":"Mimi","group_only_greetings":[]"#,
    );
    let p = parse("m.json", "m", text.as_bytes()).unwrap();
    assert_eq!(p.name, "Mira");
    assert_eq!(p.greeting, "Hi {{user}}, I'm Mimi.");
}

#[test]
fn minor_or_missing_age_is_rejected_naming_the_field() {
    for age in ["17", "null"] {
        let e = parse("x.json", "x", card("chara_card_v2", age, "").as_bytes()).unwrap_err();
        assert!(matches!(e, PersonaError::NotAdult { .. }));
        assert!(
            e.to_string()
                .contains("x.json: data.extensions.companion.age"),
            "{e}"
        );
    }
}

#[test]
fn bad_cards_name_the_file_and_field() {
    let cases = [
        (card("chara_card_v1", "20", ""), "spec"),
        (
            card("chara_card_v2", "\"old\"", ""),
            "data.extensions.companion.age",
        ),
        (
            card("chara_card_v2", "20", "").replace(r#"["Yo {{user}}"]"#, r#"[1]"#),
            "data.alternate_greetings[0]",
        ),
        (
            card("chara_card_v2", "20", "").replace(r#""first_mes""#, r#""x""#),
            "data",
        ),
        ("{".to_owned(), "(json)"),
    ];
    for (text, field) in cases {
        let e = parse("bad.json", "bad", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("bad.json: {field}")), "{field}: {e}");
    }
}

#[test]
fn original_stands_for_the_default_prompt_and_every_char_spelling_expands() {
    let text = card("chara_card_v2", "24", "").replace(
        r#""post_history_instructions":"Answer as {{char}}.""#,
        r#""post_history_instructions":"{{original}} Be <char>.","system_prompt":"{{original}}\nMira is <CHAR>.{{// hidden}}""#,
    );
    let p = parse("m.json", "m", text.as_bytes()).unwrap();
    let default = expand_char(DEFAULT_SYSTEM_PROMPT, "Mira");
    assert!(
        p.system_prompt
            .starts_with(&format!("{default}\nMira is Mira.\n\n")),
        "{}",
        p.system_prompt
    );
    assert!(!p.system_prompt.contains("hidden"));
    assert_eq!(p.post_history, "Be Mira.");
}

#[test]
fn greetings_in_other_languages_come_from_our_extension() {
    let text = card("chara_card_v2", "24", "").replace(
        r#""pitch":{"en":"Painter"}"#,
        r#""pitch":{"en":"Painter"},"lang":{"ru":{"first_mes":"Привет, {{user}}! Я {{char}}.","alternate_greetings":["Йо, <user>"]}}"#,
    );
    let p = parse("m.json", "m", text.as_bytes()).unwrap();
    assert_eq!(
        p.greetings["ru"],
        ["Привет, {{user}}! Я Mira.", "Йо, <user>"]
    );
    assert_eq!(p.greeting, "Hi {{user}}, I'm Mira.", "her own stays");
}

#[test]
fn a_card_whose_words_make_her_a_minor_is_refused_whatever_age_it_states() {
    let text = card("chara_card_v2", "25", "")
        .replace("{{Char}} paints.", "{{char}} is a 16-year-old who paints.");
    let e = parse("kid.json", "kid", text.as_bytes()).unwrap_err();
    assert!(matches!(e, PersonaError::Minor { .. }), "{e}");
    assert!(
        e.to_string().starts_with("kid.json: data.description: "),
        "{e}"
    );
}

/// The shipped Stacy, with her avatar.
pub(super) fn stacy() -> Persona {
    shipped().into_iter().find(|p| p.slug == "stacy").unwrap()
}

pub(super) fn shipped() -> Vec<Persona> {
    let loaded = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../personas")).unwrap();
    assert_eq!(loaded.problems, [], "every shipped card loads");
    loaded.personas
}

#[test]
fn shipped_personas_are_complete_adults_with_the_seeds_three_first() {
    let mut all = shipped();
    all.sort_by_key(|p| p.sort_order);
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(&names[..3], ["Stacy", "Amanda", "Jane"]);
    for (p, age) in all.iter().zip([19, 32, 22]) {
        assert_eq!(p.age, age, "{}", p.name);
        assert!(p.alternate_greetings.len() >= 2, "{}", p.name);
        assert!(
            !p.post_history.is_empty() && !p.clothing.is_empty(),
            "{}",
            p.name
        );
        assert!(p.system_prompt.contains("Examples of how"), "{}", p.name);
        assert!(
            p.pitch.contains_key("en") && p.pitch.contains_key("ru"),
            "{}",
            p.name
        );
        let avatar = p.avatar.as_deref().expect("an avatar");
        assert!(image::load_from_memory(avatar).is_ok(), "{}", p.name);
    }
    assert!(all.iter().all(|p| p.age >= 18));
    for p in &all {
        let ru = p.greetings.get("ru").map(Vec::len);
        let own = 1 + p.alternate_greetings.len();
        assert_eq!(ru, Some(own), "{}: every greeting in Russian too", p.name);
    }
}

#[test]
fn a_persona_exported_as_a_card_png_loads_back_the_same() {
    for p in shipped() {
        let png = export_png(&p).unwrap();
        let mut back = parse_png("x.png", &p.slug, &png).unwrap();
        assert_eq!(back.avatar.as_deref(), Some(&png[..]));
        back.avatar = p.avatar.clone();
        let mut want = p.clone();
        // The PNG carries the card as V3 (preferred on read).
        want.card = export::as_v2_and_v3(&p.card).1;
        assert_eq!(back, want);
    }
}

#[test]
fn a_name_that_makes_the_greeting_say_a_minor_age_is_refused() {
    let text = card(
        "chara_card_v3",
        "30",
        r#","nickname":"15","group_only_greetings":[]"#,
    )
    .replace(
        "Hi {{user}}, I'm <BOT>.",
        "I'm {{char}}, so no parties for me.",
    );
    match parse("m.json", "m", text.as_bytes()) {
        Err(PersonaError::Minor { field, .. }) => assert!(field.contains("as used"), "{field}"),
        other => panic!("{other:?}"),
    }
}
