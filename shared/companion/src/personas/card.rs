//! One Character Card (V2 or V3 JSON) turned into a [`Persona`]: every problem names the file
//! and the field; an adult age is required and no word of the card may point to a minor
//! (`screen`); `{{original}}`, `{{char}}` and the simple macros are expanded here (`macros`),
//! `{{user}}` when the prompt is built; `creator_notes`, tags and creator never reach a
//! prompt; greetings in other languages come from our extension (`lang`); the whole card,
//! unknown keys included, is kept for export.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::lang::{Localized, greetings};
use super::macros::{expand_char, expand_original, expand_simple};
use super::{EXTENSION, Persona, PersonaError, lorebook};
use crate::content::nudity::Level;

/// The system prompt used when a card leaves `system_prompt` empty.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are {{char}}, chatting with {{user}} in a messenger. \
Stay in character, write in the first person, keep replies short and natural like real chat \
messages, never write {{user}}'s words or actions, and never mention being an AI.";

#[derive(Deserialize)]
struct Card {
    spec: String,
    data: CardData,
}

#[derive(Deserialize)]
struct CardData {
    name: String,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    personality: String,
    #[serde(default)]
    scenario: String,
    first_mes: String,
    #[serde(default)]
    alternate_greetings: Vec<String>,
    #[serde(default)]
    mes_example: String,
    #[serde(default)]
    system_prompt: String,
    #[serde(default)]
    post_history_instructions: String,
    #[serde(default)]
    extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct Companion {
    age: Option<i64>,
    #[serde(default)]
    pitch: BTreeMap<String, String>,
    #[serde(default)]
    appearance: String,
    #[serde(default)]
    clothing: String,
    #[serde(default)]
    negative_prompt: String,
    #[serde(default)]
    sort_order: i32,
    #[serde(default)]
    max_nsfw_level: Option<String>,
    #[serde(default)]
    lang: BTreeMap<String, Localized>,
}

/// Parses card JSON; `file` names it in errors, `slug` in the database.
pub fn parse(file: &str, slug: &str, bytes: &[u8]) -> Result<Persona, PersonaError> {
    let format = |field: &str, reason: String| PersonaError::Format {
        file: file.to_owned(),
        field: field.to_owned(),
        reason,
    };
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format("(json)", e.to_string()))?;
    let card: Card = serde_path_to_error::deserialize(&raw)
        .map_err(|e| format(&e.path().to_string(), e.inner().to_string()))?;
    if !matches!(card.spec.as_str(), "chara_card_v2" | "chara_card_v3") {
        return Err(format(
            "spec",
            format!("{:?} is not chara_card_v2 or chara_card_v3", card.spec),
        ));
    }
    if let Some((field, hit)) = super::screen::minor_in(&raw["data"]) {
        return Err(PersonaError::Minor {
            file: file.to_owned(),
            field,
            rule: hit.rule.as_str(),
        });
    }
    let d = card.data;
    let ours: Companion = match d.extensions.get(EXTENSION) {
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| {
            format(
                &format!("data.extensions.{EXTENSION}.{}", e.path()),
                e.inner().to_string(),
            )
        })?,
        None => Companion::default(),
    };
    let age = match ours.age {
        Some(a) if (18..=150).contains(&a) => a as i32,
        other => {
            return Err(PersonaError::NotAdult {
                file: file.to_owned(),
                age: other,
            });
        }
    };
    // The look is what every picture is made of: nothing in it may suggest a minor.
    for (field, text) in [
        ("appearance", &ours.appearance),
        ("clothing", &ours.clothing),
    ] {
        if let Some(hit) = crate::content::safety::check_picture(text) {
            let reason = format!("suggests a minor ({} rule)", hit.rule.as_str());
            return Err(format(
                &format!("data.extensions.companion.{field}"),
                reason,
            ));
        }
    }
    let max_level = match ours.max_nsfw_level.as_deref() {
        None => Level::Partial,
        Some(s) => Level::parse(s).ok_or_else(|| {
            let reason = "one of none, undressing, partial, full".to_owned();
            format("data.extensions.companion.max_nsfw_level", reason)
        })?,
    };
    let name = d.name.trim().to_owned();
    if name.is_empty() {
        return Err(format("data.name", "must not be empty".into()));
    }
    if d.first_mes.trim().is_empty() {
        return Err(format("data.first_mes", "must not be empty".into()));
    }
    // V3's nickname, when given, is what `{{char}}` stands for.
    let called = d
        .nickname
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&name)
        .to_owned();
    let expand = |s: &str| expand_char(expand_simple(s).trim(), &called);
    // Entries that cannot be used are left out of the book and named in warnings.
    let lorebook = lorebook::from_card(file, raw["data"].get("character_book"), &called).book;
    // `{{original}}` is what the front end would otherwise put there.
    let system = match expand_original(&d.system_prompt, DEFAULT_SYSTEM_PROMPT) {
        s if s.trim().is_empty() => DEFAULT_SYSTEM_PROMPT.to_owned(),
        s => s,
    };
    let greetings = greetings(&ours.lang, expand).map_err(|(f, why)| format(&f, why))?;
    let mut parts = vec![expand(&system), expand(&d.description)];
    if !d.personality.trim().is_empty() {
        parts.push(format!(
            "{called}'s personality: {}",
            expand(&d.personality)
        ));
    }
    if !d.scenario.trim().is_empty() {
        parts.push(format!("Scenario: {}", expand(&d.scenario)));
    }
    parts.push(format!(
        "Every character in this conversation is an adult. {called} is {age} years old."
    ));
    if !d.mes_example.trim().is_empty() {
        parts.push(format!(
            "Examples of how {called} writes:\n{}",
            examples(&expand(&d.mes_example))
        ));
    }
    let system_prompt = parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let persona = Persona {
        slug: slug.to_owned(),
        age,
        system_prompt,
        post_history: expand(&expand_original(&d.post_history_instructions, "")),
        greeting: expand(&d.first_mes),
        alternate_greetings: d
            .alternate_greetings
            .iter()
            .map(|g| expand(g))
            .filter(|g| !g.is_empty())
            .collect(),
        greetings,
        pitch: ours.pitch,
        appearance: ours.appearance,
        clothing: ours.clothing,
        negative_prompt: ours.negative_prompt,
        sort_order: ours.sort_order,
        max_level,
        name,
        card: raw,
        avatar: None,
        lorebook,
    };
    // A name or nickname like "15" passes alone and shows only once `{{char}}` is expanded.
    if let Some((field, hit)) = super::screen::minor_in_expanded(&persona) {
        return Err(PersonaError::Minor {
            file: file.to_owned(),
            field,
            rule: hit.rule.as_str(),
        });
    }
    Ok(persona)
}

/// `mes_example` blocks (each opened by `<START>`) as plain separated examples.
fn examples(text: &str) -> String {
    text.split("<START>")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect::<Vec<_>>()
        .join("\n---\n")
}
