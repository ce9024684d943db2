//! A card's lorebook in use, through the real functions: an entry whose key the user writes is
//! in the model's system prompt (before the persona's definition or after it, as the entry
//! says) while the key is within the scan depth and gone after; a constant entry is always
//! there; an entry that fails the minor-safety scan never reaches the model; and a photo's
//! scene request carries the entries the dialog activates.

use serde_json::{Value, json};
use standins::system::System;

use crate::helpers::Chat;
use crate::photos::photo_of;

const LIGHTHOUSE: &str = "LORE-LIGHTHOUSE: the old lighthouse on the cape is painted red and white, with a spiral stair of 200 steps.";
const TOWN: &str = "LORE-TOWN: Ilse lives above a bakery in the fishing town of Vey.";
const NIGHT_HARBOUR: &str = "LORE-HARBOUR: at night the harbour is lit by green lanterns.";
const UNSAFE: &str = "LORE-UNSAFE";

/// A card for Ilse, 27, whose book has a keyed entry, a constant one, a selective one and one
/// the lorebook's own minor-safety reading leaves out (a family word on its own: the card's
/// screen lets it pass, an entry shown in an adult dialog may not carry it).
fn card() -> Value {
    json!({
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Ilse",
            "description": "{{char}} is a 27-year-old sailmaker who loves the sea.",
            "first_mes": "Ahoy {{user}}! The wind is perfect today.",
            "extensions": {"companion": {
                "age": 27,
                "appearance": "adult woman, 27 years old, short dark hair, grey eyes, freckles",
                "clothing": "navy sweater, canvas trousers"
            }},
            "character_book": {
                "name": "Vey",
                "entries": [
                    {"keys": ["lighthouse"], "content": LIGHTHOUSE, "enabled": true,
                     "insertion_order": 10, "position": "before_char", "extensions": {}},
                    {"keys": [], "constant": true, "content": TOWN, "enabled": true,
                     "insertion_order": 20, "position": "after_char", "extensions": {}},
                    {"keys": ["harbour"], "secondary_keys": ["night", "evening"], "selective": true,
                     "content": NIGHT_HARBOUR, "enabled": true, "insertion_order": 30,
                     "position": "after_char", "extensions": {"selectiveLogic": 0}},
                    {"keys": ["lighthouse"], "content": format!("{UNSAFE}: the kids next door play by the lamp."),
                     "comment": "Keeper", "enabled": true, "insertion_order": 5, "extensions": {}}
                ]
            }
        }
    })
}

/// The system prompt of the model's latest chat request (not a scene request).
fn last_system(sys: &System) -> String {
    let chat = sys
        .llm
        .requests()
        .into_iter()
        .rev()
        .find(|r| !is_scene(r))
        .expect("a chat request");
    chat["messages"][0]["content"].as_str().unwrap().to_owned()
}

fn is_scene(r: &Value) -> bool {
    r["messages"][0]["content"]
        .as_str()
        .is_some_and(|s| s.contains("set the scene"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lorebook_entries_follow_the_dialog_into_answers_and_photo_scenes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ilse.json"),
        serde_json::to_vec_pretty(&card()).unwrap(),
    )
    .unwrap();
    let personas = dir.path().display().to_string();
    let sys = System::start("lorebook", &[("PERSONAS_DIR", personas.as_str())])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 9301);
    chat.open_dialog().await;

    // No key yet: only the constant entry, after the persona's definition.
    chat.turn("hi! how are you?").await;
    let system = last_system(&sys);
    let definition = system.find("sailmaker").expect("the definition");
    assert!(
        system.find(TOWN).is_some_and(|at| at > definition),
        "{system}"
    );
    assert!(!system.contains("LORE-LIGHTHOUSE"), "{system}");

    // The key: its entry goes before the definition.
    chat.turn("Shall we climb the Lighthouse tomorrow?").await;
    let system = last_system(&sys);
    let definition = system.find("sailmaker").unwrap();
    assert!(
        system.find(LIGHTHOUSE).is_some_and(|at| at < definition),
        "{system}"
    );
    assert!(system.contains(TOWN), "{system}");

    // Two messages deep (SillyTavern's default): the answer that echoed the key keeps it in...
    chat.turn("what did you eat today?").await;
    assert!(last_system(&sys).contains(LIGHTHOUSE));
    // ...and one message later it is out; the constant entry stays.
    chat.turn("I had soup, by the way").await;
    let system = last_system(&sys);
    assert!(
        !system.contains("LORE-LIGHTHOUSE") && system.contains(TOWN),
        "{system}"
    );

    // A selective entry needs a secondary key as well.
    chat.turn("the harbour looks busy").await;
    assert!(!last_system(&sys).contains("LORE-HARBOUR"));
    chat.turn("meet me at the harbour tonight, at night").await;
    assert!(last_system(&sys).contains(NIGHT_HARBOUR));

    // The photo's scene request carries what the dialog activates.
    let reply = chat.turn("Meet me at the lighthouse at noon").await;
    let (_, image) = photo_of(&chat, &reply).await;
    assert!(image["prompt"].as_str().unwrap().contains("adult woman"));
    let scene = sys
        .llm
        .requests()
        .into_iter()
        .rev()
        .find(is_scene)
        .expect("a scene request");
    let asked = scene["messages"][1]["content"].as_str().unwrap();
    assert!(
        asked.contains(LIGHTHOUSE) && asked.contains(TOWN),
        "{asked}"
    );

    // The entry the minor-safety reading left out never reached the model.
    let requests = sys.llm.requests();
    assert!(
        requests.iter().all(|r| !r.to_string().contains(UNSAFE)),
        "an unsafe entry reached the model"
    );
}
