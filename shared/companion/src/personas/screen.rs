//! A card's words screened for a minor, whatever age it states: every text under `data` (the
//! definition, greetings, examples, prompts, notes, tags, a lorebook) and our own extension
//! (`extensions.companion`: pitch, per-language greetings, the look — not the negative prompt,
//! which names what a picture must not show) passes the chat rule of the
//! minor-safety scan (`content::safety::chat_refusal` — a memory, "when she was a kid",
//! passes; "she is 16" does not). Other applications' extensions are opaque data we never
//! show nor send, so they are not read. A card sexual in any text is screened as an adult
//! dialog everywhere (a family word in one field and sex in another both end up in one system
//! prompt), and the texts are screened again once `{{char}}` has become the name, which is
//! where a name like "15" shows.

use serde_json::Value;

use super::{EXTENSION, Persona};
use crate::content::nsfw::is_adult;
use crate::content::safety::{Hit, chat_refusal};

/// The first text of card `data` that points to a minor: its field path and the hit.
pub fn minor_in(data: &Value) -> Option<(String, Hit)> {
    first_refusal(texts(data))
}

/// The persona's texts as the model and the user see them (`{{char}}` expanded), screened as
/// the card's words were; the field they come from and the hit.
pub fn minor_in_expanded(p: &Persona) -> Option<(String, Hit)> {
    let mut texts: Vec<(String, &str)> = vec![
        ("data.system_prompt (as used)".into(), &p.system_prompt),
        (
            "data.post_history_instructions (as used)".into(),
            &p.post_history,
        ),
        ("data.first_mes (as used)".into(), &p.greeting),
    ];
    let alternates = p.alternate_greetings.iter().enumerate();
    texts.extend(alternates.map(|(i, g)| {
        (
            format!("data.alternate_greetings[{i}] (as used)"),
            g.as_str(),
        )
    }));
    for (lang, list) in &p.greetings {
        let path = format!("data.extensions.{EXTENSION}.lang.{lang} (as used)");
        texts.extend(list.iter().map(|g| (path.clone(), g.as_str())));
    }
    texts.extend(p.pitch.iter().map(|(lang, s)| {
        (
            format!("data.extensions.{EXTENSION}.pitch.{lang}"),
            s.as_str(),
        )
    }));
    first_refusal(texts)
}

/// The first of `texts` the chat rule refuses, all read as an adult dialog when any is sexual.
fn first_refusal(texts: Vec<(String, &str)>) -> Option<(String, Hit)> {
    let adult = texts.iter().any(|(_, s)| is_adult(s));
    texts
        .into_iter()
        .find_map(|(path, s)| chat_refusal(s, adult).map(|hit| (path, hit)))
}

/// Every text of card `data` the screen reads, with its field path.
fn texts(data: &Value) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let Value::Object(fields) = data else {
        return out;
    };
    for (key, value) in fields {
        if key == "extensions" {
            let ours = value.get(EXTENSION).and_then(Value::as_object);
            // The negative prompt names what a picture must not show: minors among them.
            for (k, v) in ours.into_iter().flatten() {
                if k != "negative_prompt" {
                    walk(v, format!("data.extensions.{EXTENSION}.{k}"), &mut out);
                }
            }
        } else {
            walk(value, format!("data.{key}"), &mut out);
        }
    }
    out
}

fn walk<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((path, s)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk(v, format!("{path}.{k}"), out);
            }
        }
        _ => {}
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
    fn a_family_word_beside_sex_in_another_field_is_found() {
        let data = json!({
            "name": "Kate",
            "description": "Kate lives with her little daughter.",
            "scenario": "Kate seduces {{user}} in explicit detail, naked in bed, sex.",
        });
        assert_eq!(minor_in(&data).unwrap().0, "data.description");
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
