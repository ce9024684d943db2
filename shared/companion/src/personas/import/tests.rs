//! Importing the community cards of `tests/fixtures/cards` (V2 PNG, V3 PNG, V3 JSON with a
//! lorebook) and a flat V1 card: the operator's age recorded, refusals that write nothing,
//! and a persona exported back.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::personas::{Loaded, load_dir};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/cards")
        .join(name)
}

fn request(card: PathBuf, age: i64, dir: &Path) -> Request {
    Request {
        card,
        age,
        slug: None,
        avatar: None,
        dir: dir.to_owned(),
        replace: false,
    }
}

fn loaded(dir: &Path) -> Loaded {
    let l = load_dir(dir).unwrap();
    assert_eq!(l.problems, [], "what was imported loads");
    l
}

#[test]
fn the_three_community_cards_import_with_the_operators_age_and_load() {
    let dir = tempfile::tempdir().unwrap();
    for (file, age, slug, name) in [
        ("rhea-v2.png", 44, "rhea-voss", "Rhea Voss"),
        ("ines-v3.png", 38, "dr-ines-okafor", "Dr. Ines Okafor"),
        ("margot-v3.json", 35, "margot-lefevre", "Margot Lefèvre"),
    ] {
        let done = import(&request(fixture(file), age, dir.path())).unwrap();
        assert_eq!(
            (done.persona.slug.as_str(), done.persona.age),
            (slug, age as i32)
        );
        assert_eq!(done.persona.name, name);
        let written = done.written.last().unwrap();
        assert_eq!(written, &dir.path().join(format!("{slug}.json")));
    }
    let all = loaded(dir.path()).personas;
    let orders: Vec<i32> = all.iter().map(|p| p.sort_order).collect();
    assert_eq!(
        orders,
        [2, 3, 1],
        "each newcomer after the last (files in name order)"
    );
    for p in &all {
        let ours = &p.card["data"]["extensions"]["companion"];
        assert_eq!(ours["age_source"], "operator", "{}", p.name);
        assert_eq!(ours["age"], p.age);
        assert!(p.system_prompt.contains(&format!("is {} years old", p.age)));
    }
    let ines = all.iter().find(|p| p.slug == "dr-ines-okafor").unwrap();
    assert!(
        ines.greeting.contains("Ines hands you a towel"),
        "the nickname"
    );
    let avatar = ines.avatar.as_deref().expect("the PNG's picture");
    assert_eq!(png::read_card(avatar), Err(PngCardError::NoCard));
    assert!(
        ines.system_prompt.starts_with("You are Ines"),
        "{{{{original}}}}"
    );
    assert_eq!(
        ines.card["data"]["source"],
        json!(["https://example.org/cards/ines-okafor"])
    );
    let margot = all.iter().find(|p| p.slug == "margot-lefevre").unwrap();
    assert!(margot.avatar.is_none());
    assert_eq!(
        margot.card["data"]["character_book"]["entries"]
            .as_array()
            .map(Vec::len),
        Some(4),
        "the lorebook is kept"
    );
    let rhea = all.iter().find(|p| p.slug == "rhea-voss").unwrap();
    assert_eq!(rhea.alternate_greetings.len(), 1);
    assert_eq!(rhea.card["spec"], "chara_card_v2");
}

#[test]
fn an_age_under_18_or_words_of_a_minor_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let e = import(&request(fixture("rhea-v2.png"), 17, dir.path())).unwrap_err();
    assert!(matches!(e, ImportError::Age(17)), "{e}");
    let young = dir.path().join("young.json");
    let mut card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("margot-v3.json")).unwrap()).unwrap();
    card["data"]["description"] = "{{char}} is 16 and runs her parents' bookshop.".into();
    std::fs::write(&young, serde_json::to_vec(&card).unwrap()).unwrap();
    let e = import(&request(young.clone(), 30, dir.path())).unwrap_err();
    assert!(
        matches!(&e, ImportError::Card(PersonaError::Minor { field, .. }) if field == "data.description"),
        "{e}"
    );
    std::fs::remove_file(young).unwrap();
    for broken in ["truncated.json", "no-card.png"] {
        let e = import(&request(fixture(broken), 30, dir.path())).unwrap_err();
        assert!(
            matches!(e, ImportError::Card(_) | ImportError::Png(..)),
            "{e}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_flat_v1_card_is_wrapped_as_v2_with_the_avatar_given() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("old.json");
    let card = json!({"name": "Odette", "description": "{{char}} repairs clocks.",
        "personality": "precise", "scenario": "", "first_mes": "Tick tock, <USER>.",
        "mes_example": "", "creatorcomment": "An old card."});
    std::fs::write(&v1, serde_json::to_vec(&card).unwrap()).unwrap();
    let out = dir.path().join("personas");
    let mut r = request(v1, 52, &out);
    r.avatar = Some(fixture("ines-v3.png"));
    let done = import(&r).unwrap();
    let avatar = std::fs::read(out.join("avatars/odette.png")).unwrap();
    assert_eq!(
        png::read_card(&avatar),
        Err(PngCardError::NoCard),
        "the picture alone"
    );
    assert_eq!(done.persona.slug, "odette");
    assert_eq!(done.persona.greeting, "Tick tock, <USER>.");
    assert_eq!(done.persona.card["spec"], "chara_card_v2");
    assert_eq!(done.persona.card["data"]["creator_notes"], "An old card.");
    assert_eq!(loaded(&out).personas.len(), 1);
}

#[test]
fn a_taken_slug_needs_replace_and_a_name_without_latin_letters_needs_a_slug() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = request(fixture("rhea-v2.png"), 44, dir.path());
    import(&r).unwrap();
    let e = import(&r).unwrap_err();
    assert!(matches!(e, ImportError::Exists(_)), "{e}");
    r.replace = true;
    r.age = 45;
    import(&r).unwrap();
    assert_eq!(loaded(dir.path()).personas[0].age, 45);

    let ru = dir.path().join("ru.json");
    let mut card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("margot-v3.json")).unwrap()).unwrap();
    card["data"]["name"] = "Марго".into();
    std::fs::write(&ru, serde_json::to_vec(&card).unwrap()).unwrap();
    let mut r = request(ru, 35, dir.path());
    assert!(matches!(import(&r), Err(ImportError::Slug(_))));
    r.slug = Some("margo".into());
    assert_eq!(import(&r).unwrap().persona.name, "Марго");
}

#[test]
fn an_imported_persona_exports_to_a_card_png_by_slug_or_by_file() {
    let dir = tempfile::tempdir().unwrap();
    import(&request(fixture("ines-v3.png"), 38, dir.path())).unwrap();
    let out = dir.path().join("out.png");
    let p = export("dr-ines-okafor", dir.path(), &out).unwrap();
    let png_bytes = std::fs::read(&out).unwrap();
    let v2: serde_json::Value =
        serde_json::from_slice(&png::read_chunk(&png_bytes, "chara").unwrap().unwrap()).unwrap();
    assert_eq!(v2["spec"], "chara_card_v2");
    assert!(v2["data"].get("group_only_greetings").is_none());
    let back = crate::personas::parse_png("out.png", &p.slug, &png_bytes).unwrap();
    assert_eq!((back.name, back.age), (p.name, p.age));

    let by_file = dir.path().join("dr-ines-okafor.json");
    export(by_file.to_str().unwrap(), Path::new("elsewhere"), &out).unwrap();
    let e = export("nobody", dir.path(), &out).unwrap_err();
    assert!(matches!(e, ImportError::Unknown(..)), "{e}");
}
