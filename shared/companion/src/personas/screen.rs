//! A card's words screened for a minor, whatever age it states: every text under `data` (the
//! definition, greetings, examples, prompts, notes, tags, a lorebook) and our own extension
//! (`extensions.companion`: pitch, per-language greetings, the look — not the negative prompt,
//! which names what a picture must not show) passes the chat rule of the
//! minor-safety scan (`content::safety::chat_refusal` — a memory, "when she was a kid",
//! passes; "she is 16" does not). Other applications' extensions are opaque data we never
//! show nor send, so they are not read.

use serde_json::Value;

use super::EXTENSION;
use crate::content::safety::{Hit, chat_refusal};

/// The first text of card `data` that points to a minor: its field path and the hit.
pub fn minor_in(data: &Value) -> Option<(String, Hit)> {
    let Value::Object(fields) = data else {
        return None;
    };
    for (key, value) in fields {
        let found = if key == "extensions" {
            let ours = value.get(EXTENSION).and_then(Value::as_object);
            // The negative prompt names what a picture must not show: minors among them.
            ours.into_iter()
                .flatten()
                .filter(|(k, _)| *k != "negative_prompt")
                .find_map(|(k, v)| walk(v, format!("data.extensions.{EXTENSION}.{k}")))
        } else {
            walk(value, format!("data.{key}"))
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn walk(value: &Value, path: String) -> Option<(String, Hit)> {
    match value {
        Value::String(s) => chat_refusal(s, false).map(|hit| (path, hit)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| walk(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| walk(v, format!("{path}.{k}"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_age_under_18_anywhere_in_the_words_is_found_with_its_field() {
        let data = json!({
            "name": "Kate",
            "description": "Kate paints murals.",
            "alternate_greetings": ["hi", "I'm 16 and bored"],
        });
        let (field, _) = minor_in(&data).expect("found");
        assert_eq!(field, "data.alternate_greetings[1]");
        let data = json!({"name": "K", "character_book": {"entries": [
            {"keys": ["school"], "content": "She is a 15-year-old pupil."}]}});
        assert_eq!(
            minor_in(&data).unwrap().0,
            "data.character_book.entries[0].content"
        );
        let data = json!({"name": "K", "extensions": {"companion": {"lang": {"ru": {
            "first_mes": "Мне 15 лет"}}}}});
        assert_eq!(
            minor_in(&data).unwrap().0,
            "data.extensions.companion.lang.ru.first_mes"
        );
    }

    #[test]
    fn adult_backstories_and_other_apps_data_pass() {
        let data = json!({
            "name": "Kate",
            "description": "Kate, 34, has painted since she was a kid; the kids next door love her murals.",
            "tags": ["artist"],
            "extensions": {"other_app": {"note": "teen"}},
        });
        assert!(minor_in(&data).is_none());
    }
}
