//! A persona as a card PNG that SillyTavern (and any V2 or V3 reader) takes back: on her
//! avatar, a `ccv3` chunk with the card as V3 (`group_only_greetings` present, as V3
//! requires) and a `chara` chunk with it as V2 — the V2 fields only (V3's own are dropped, a
//! lorebook's entries lose `use_regex` and their `@@decorator` lines), the six V1 fields
//! mirrored at the top as V2 writers do, and, when the card is V3, a note in
//! `creator_notes` that this chunk is a V2 copy of a V3 card, as the V3 spec asks.

use serde_json::{Map, Value, json};

use super::Persona;
use super::png::{self, PngCardError};

/// Put first in a V2 copy's `creator_notes` when the card is V3.
pub const BACKFILL_NOTE: &str = "This is a Character Card V3 written as V2 for older apps; \
an app that reads V3 cards shows everything the card holds.";

/// Fields of a card's `data` that V3 added.
const V3_ONLY: [&str; 7] = [
    "assets",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
];

/// The V1 fields, which V2 writers repeat at the card's top level.
const V1_FIELDS: [&str; 6] = [
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
];

/// The persona as a card PNG on her avatar.
pub fn export_png(p: &Persona) -> Result<Vec<u8>, PngCardError> {
    let avatar = p
        .avatar
        .as_deref()
        .ok_or(PngCardError::NotPng("the persona has no avatar"))?;
    let (v2, v3) = as_v2_and_v3(&p.card);
    let json = |v: &Value| serde_json::to_vec(v).expect("a card serializes");
    png::write_card(avatar, &json(&v2), &json(&v3))
}

/// The card as V2 (for `chara`) and as V3 (for `ccv3`).
pub fn as_v2_and_v3(card: &Value) -> (Value, Value) {
    let mut data = match card.get("data") {
        Some(Value::Object(d)) => d.clone(),
        _ => Map::new(),
    };
    for (field, empty) in [
        ("creator_notes", json!("")),
        ("system_prompt", json!("")),
        ("post_history_instructions", json!("")),
        ("alternate_greetings", json!([])),
        ("tags", json!([])),
        ("creator", json!("")),
        ("character_version", json!("")),
        ("extensions", json!({})),
    ]
    .into_iter()
    .chain(V1_FIELDS.map(|f| (f, json!(""))))
    {
        data.entry(field).or_insert(empty);
    }
    let mut v3 = data.clone();
    v3.entry("group_only_greetings").or_insert(json!([]));
    let mut v2 = data;
    for field in V3_ONLY {
        v2.remove(field);
    }
    if let Some(Value::Array(entries)) = v2
        .get_mut("character_book")
        .and_then(|b| b.get_mut("entries"))
    {
        entries.iter_mut().for_each(entry_as_v2);
    }
    if card["spec"] == "chara_card_v3" {
        let notes = v2["creator_notes"].as_str().unwrap_or("").to_owned();
        if !notes.starts_with(BACKFILL_NOTE) {
            let joined = [BACKFILL_NOTE, notes.trim()].join("\n\n");
            v2.insert("creator_notes".into(), joined.trim().into());
        }
    }
    let mut top = Map::new();
    top.insert("spec".into(), "chara_card_v2".into());
    top.insert("spec_version".into(), "2.0".into());
    for field in V1_FIELDS {
        top.insert(field.into(), v2[field].clone());
    }
    top.insert("data".into(), Value::Object(v2));
    let v3 = json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": v3});
    (Value::Object(top), v3)
}

/// A lorebook entry as V2 has it: no `use_regex`, no leading `@@decorator` lines.
fn entry_as_v2(entry: &mut Value) {
    let Some(e) = entry.as_object_mut() else {
        return;
    };
    e.remove("use_regex");
    if let Some(Value::String(content)) = e.get_mut("content") {
        let kept: Vec<&str> = content
            .lines()
            .skip_while(|l| l.trim_start().starts_with("@@"))
            .collect();
        *content = kept.join("\n");
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::stacy;
    use super::super::{parse, parse_png};
    use super::*;

    /// Every field V2 requires under `data`.
    const V2_FIELDS: [&str; 14] = [
        "name",
        "description",
        "personality",
        "scenario",
        "first_mes",
        "mes_example",
        "creator_notes",
        "system_prompt",
        "post_history_instructions",
        "alternate_greetings",
        "tags",
        "creator",
        "character_version",
        "extensions",
    ];

    /// A shipped persona's card as V3, with V3's own fields and a lorebook.
    fn v3_persona() -> Persona {
        let mut p = stacy();
        let d = &mut p.card["data"];
        d["nickname"] = "Stace".into();
        d["group_only_greetings"] = json!(["hi all"]);
        d["assets"] = json!([{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]);
        d["creation_date"] = 1_700_000_000.into();
        d["character_book"] = json!({"extensions": {}, "entries": [{
            "keys": ["dorm"], "content": "@@depth 4\n@@role system\nThe dorm is on Elm Street.",
            "extensions": {}, "enabled": true, "insertion_order": 10, "use_regex": false}]});
        p.card["spec"] = "chara_card_v3".into();
        p.card["spec_version"] = "3.0".into();
        let text = serde_json::to_vec(&p.card).unwrap();
        let avatar = p.avatar.take();
        p = parse("stacy.json", "stacy", &text).unwrap();
        p.avatar = avatar;
        p
    }

    fn chunk(png: &[u8], keyword: &str) -> Value {
        let bytes = png::read_chunk(png, keyword).unwrap().expect(keyword);
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_v3_card_exports_as_v3_beside_a_v2_backfill_that_v2_readers_take() {
        let p = v3_persona();
        let out = export_png(&p).unwrap();
        let v2 = chunk(&out, "chara");
        assert_eq!(
            (&v2["spec"], &v2["spec_version"]),
            (&json!("chara_card_v2"), &json!("2.0"))
        );
        for field in V2_FIELDS {
            assert!(v2["data"].get(field).is_some(), "V2 needs data.{field}");
        }
        for field in V3_ONLY {
            assert!(v2["data"].get(field).is_none(), "V3's {field} left in V2");
        }
        assert_eq!(v2["name"], "Stacy", "V1 fields mirrored at the top");
        let notes = v2["data"]["creator_notes"].as_str().unwrap();
        assert!(
            notes.starts_with(BACKFILL_NOTE) && notes.contains("Stacy, from"),
            "{notes}"
        );
        let entry = &v2["data"]["character_book"]["entries"][0];
        assert!(entry.get("use_regex").is_none());
        assert_eq!(entry["content"], "The dorm is on Elm Street.");
        let as_v2 = parse("x.json", "stacy", &serde_json::to_vec(&v2).unwrap()).unwrap();
        assert_eq!(as_v2.name, "Stacy");

        let v3 = chunk(&out, "ccv3");
        assert_eq!(
            (&v3["spec"], &v3["spec_version"]),
            (&json!("chara_card_v3"), &json!("3.0"))
        );
        assert_eq!(v3["data"]["nickname"], "Stace");
        assert_eq!(v3["data"]["group_only_greetings"], json!(["hi all"]));
        assert_eq!(
            v3["data"]["character_book"],
            p.card["data"]["character_book"]
        );
        let mut back = parse_png("x.png", "stacy", &out).unwrap();
        back.avatar = p.avatar.clone();
        assert_eq!(back, p, "the V3 chunk is the card itself");
    }

    #[test]
    fn a_v2_card_exports_without_the_backfill_note_and_gains_v3s_required_field() {
        let p = stacy();
        let out = export_png(&p).unwrap();
        let v2 = chunk(&out, "chara");
        assert_eq!(v2["data"]["creator_notes"], p.card["data"]["creator_notes"]);
        assert_eq!(
            chunk(&out, "ccv3")["data"]["group_only_greetings"],
            json!([])
        );
        // Read back, the card is V3: its V2 copy is a backfill now, noted once however often
        // it is exported.
        let mut once = parse_png("x.png", "x", &out).unwrap();
        for _ in 0..2 {
            let again = export_png(&once).unwrap();
            let notes = chunk(&again, "chara")["data"]["creator_notes"].clone();
            assert_eq!(notes.as_str().unwrap().matches(BACKFILL_NOTE).count(), 1);
            once = parse_png("x.png", "x", &again).unwrap();
        }
    }
}
