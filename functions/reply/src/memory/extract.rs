//! What the memory extractor asks the LLM and how its answer is read: the facts already
//! known and the new messages (numbered, so each fact can name the message it came from) go
//! in; JSON `{"facts": [{"key", "fact", "source"}]}` comes out, read leniently (a model
//! answering plain text may wrap the object in words or a code fence). Keys are normalised
//! so the same subject always lands on the same row (a new fact replaces the one it
//! contradicts), facts are trimmed and capped, and every fact passes the minor-safety scan
//! before it is kept: one that makes the user or anyone a minor is dropped.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::llm::ChatMessage;
use crate::store::Turn;

/// The schema's name in `response_format`.
pub const SCHEMA_NAME: &str = "user_facts";
/// Facts read from one answer at most.
pub const MAX_FACTS: usize = 12;
/// A fact's length cap in characters (the table allows 300).
pub const FACT_CHARS: usize = 280;
/// A key's length cap in characters (the table allows 40).
pub const KEY_CHARS: usize = 40;
/// A message's length in the transcript, at most (the facts are in what people say, not in
/// pages of prose).
pub const MESSAGE_CHARS: usize = 1000;

/// What the extractor is asked. Stand-ins recognise the call by its first words.
pub const INSTRUCTIONS: &str = "You keep the long-term memory of a role-play companion: \
durable facts about the user that are worth remembering in later conversations — their name, \
where they live, their job, likes and dislikes, important events, the people and pets in their \
life and their names. Read the new messages of the chat and answer with JSON of the form \
{\"facts\": [{\"key\": \"...\", \"fact\": \"...\", \"source\": 0}]}. `key` is a short \
snake_case name of what the fact is about (name, city, job, dog, sister, favourite_music); \
`fact` is one short sentence in the third person about \"the user\", in the language of the \
conversation; `source` is the number of the message it comes from. List only facts the user \
states about themselves or their life, not the character's, not role-play fiction, nothing \
passing (moods, what happens in the scene right now). When a new fact changes one already \
known, give it with the known key: it replaces the old one. When the messages repeat a known \
fact, give it again with its key. Never record anything that makes the user or anyone else a \
minor. When there is nothing to remember, answer {\"facts\": []}.";

/// The JSON schema of the answer.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "facts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "fact": {"type": "string"},
                        "source": {"type": "integer"}
                    },
                    "required": ["key", "fact", "source"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["facts"],
        "additionalProperties": false
    })
}

/// The extractor's messages: the instructions, then what is known (`key: fact`) and the new
/// messages numbered from 1.
pub fn ask(known: &[(String, String)], messages: &[Turn]) -> Vec<ChatMessage> {
    let known = if known.is_empty() {
        "(nothing yet)".to_owned()
    } else {
        let lines: Vec<String> = known.iter().map(|(k, f)| format!("- {k}: {f}")).collect();
        lines.join("\n")
    };
    let lines: Vec<String> = messages
        .iter()
        .enumerate()
        .map(|(i, (role, text, _))| {
            let who = if role == "user" { "User" } else { "Character" };
            let text: String = text.chars().take(MESSAGE_CHARS).collect();
            format!("[{}] {who}: {text}", i + 1)
        })
        .collect();
    vec![
        ChatMessage {
            role: "system".into(),
            content: INSTRUCTIONS.into(),
        },
        ChatMessage {
            role: "user".into(),
            content: format!(
                "Known facts:\n{known}\n\nNew messages:\n{}",
                lines.join("\n")
            ),
        },
    ]
}

/// A fact as it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// What it is about (normalised).
    pub key: String,
    /// The sentence.
    pub fact: String,
    /// The message it came from (`chat_messages.id`).
    pub source: i64,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    facts: Vec<Raw>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    key: Value,
    #[serde(default)]
    fact: Value,
    #[serde(default)]
    source: Value,
}

/// The facts in an answer to [`ask`] about `messages`, normalised, deduplicated by key (the
/// last one of a key wins) and screened; `None` when the answer holds no such JSON at all.
pub fn read(answer: &str, messages: &[Turn]) -> Option<Vec<Fact>> {
    let object = match (answer.find('{'), answer.rfind('}')) {
        (Some(a), Some(b)) if a < b => &answer[a..=b],
        _ => return None,
    };
    let parsed: Answer = serde_json::from_str(object).ok()?;
    let fallback = messages
        .iter()
        .rev()
        .find(|t| t.0 == "user")
        .or(messages.last())
        .map_or(0, |t| t.2);
    let mut out: Vec<Fact> = Vec::new();
    for raw in parsed.facts {
        let (Some(key), Some(fact)) = (
            raw.key.as_str().and_then(normalize_key),
            raw.fact.as_str().and_then(clean_fact),
        ) else {
            continue;
        };
        if !safe(&fact) {
            tracing::warn!(key, "a fact refused by the minor-safety scan; not kept");
            continue;
        }
        let source = raw
            .source
            .as_i64()
            .or_else(|| raw.source.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| messages.get(i))
            .map_or(fallback, |t| t.2);
        out.retain(|f| f.key != key);
        out.push(Fact { key, fact, source });
    }
    let skip = out.len().saturating_sub(MAX_FACTS);
    Some(out.split_off(skip))
}

/// Whether a fact may be kept and shown: it passes the fact screen, stricter than any chat
/// scan (a fact outlives the dialog it was learned in: no tense, memory or owner excuses a
/// minor in it; see `safety::fact_refusal`).
pub fn safe(fact: &str) -> bool {
    companion::content::safety::fact_refusal(fact).is_none()
}

/// A key in snake_case: lower case, letters and digits (any script) joined by `_`, at most
/// [`KEY_CHARS`] characters; `None` when nothing is left.
pub fn normalize_key(key: &str) -> Option<String> {
    let mut out = String::new();
    for c in key.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out: String = out.trim_end_matches('_').chars().take(KEY_CHARS).collect();
    let out = out.trim_end_matches('_').to_owned();
    (!out.is_empty()).then_some(out)
}

/// A fact on one line, at most [`FACT_CHARS`] characters; `None` when empty.
fn clean_fact(fact: &str) -> Option<String> {
    let one_line = fact.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(FACT_CHARS).collect();
    if one_line.chars().count() > FACT_CHARS {
        out.push('…');
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns() -> Vec<Turn> {
        vec![
            ("user".into(), "My name is Katya".into(), 10),
            ("assistant".into(), "Lovely name!".into(), 11),
            ("user".into(), "My dog is called Rex".into(), 12),
        ]
    }

    #[test]
    fn facts_are_read_with_their_source_message() {
        let answer = r#"{"facts": [{"key": "Name", "fact": "The user's name is Katya.", "source": 1},
            {"key": "dog", "fact": "The user has a dog called Rex.", "source": 3}]}"#;
        let facts = read(answer, &turns()).unwrap();
        assert_eq!(
            facts,
            vec![
                Fact {
                    key: "name".into(),
                    fact: "The user's name is Katya.".into(),
                    source: 10
                },
                Fact {
                    key: "dog".into(),
                    fact: "The user has a dog called Rex.".into(),
                    source: 12
                },
            ]
        );
    }

    #[test]
    fn a_wrapped_or_sloppy_answer_is_read_and_nonsense_is_none() {
        let answer = "Sure!\n```json\n{\"facts\": [{\"key\": \"favourite music\", \"fact\": \"  Likes\\n jazz \", \"source\": \"9\"}, {\"key\": \"\", \"fact\": \"x\"}, {\"key\": \"job\", \"fact\": 5}]}\n```";
        let facts = read(answer, &turns()).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].key, "favourite_music");
        assert_eq!(facts[0].fact, "Likes jazz");
        assert_eq!(
            facts[0].source, 12,
            "an unknown source is the last user message"
        );
        assert_eq!(read("I have nothing to add.", &turns()), None);
        assert_eq!(read("{\"facts\": []}", &turns()), Some(Vec::new()));
    }

    #[test]
    fn one_fact_per_key_the_last_wins_and_long_facts_are_capped() {
        let long = "a".repeat(500);
        let answer = format!(
            r#"{{"facts": [{{"key": "city", "fact": "Lives in Oslo", "source": 1}},
                {{"key": "City!", "fact": "Lives in Bergen", "source": 1}},
                {{"key": "notes", "fact": "{long}", "source": 1}}]}}"#
        );
        let facts = read(&answer, &turns()).unwrap();
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[0].fact, "Lives in Bergen");
        assert_eq!(facts[1].fact.chars().count(), FACT_CHARS + 1);
    }

    #[test]
    fn keys_are_snake_case_in_any_script() {
        assert_eq!(normalize_key(" Dog's Name ").as_deref(), Some("dog_s_name"));
        assert_eq!(normalize_key("Имя").as_deref(), Some("имя"));
        assert_eq!(normalize_key("--"), None);
        assert_eq!(normalize_key(&"k".repeat(60)).unwrap().len(), KEY_CHARS);
    }

    #[test]
    fn a_fact_that_makes_anyone_a_minor_is_dropped() {
        let answer = r#"{"facts": [{"key": "age", "fact": "The user is 15 years old.", "source": 1},
            {"key": "dog", "fact": "The user has a dog called Rex.", "source": 3}]}"#;
        let facts = read(answer, &turns()).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].key, "dog");
        assert!(!safe("The user is a 14-year-old schoolgirl."));
        assert!(
            !safe("The user's son is 7 years old."),
            "a fact outlives its dialog: no child's age, even owned"
        );
        assert!(safe("The user works as a nurse in Oslo."));
        assert!(!safe("The user lost their virginity when they were 13."));
    }

    #[test]
    fn the_question_numbers_the_messages_and_lists_what_is_known() {
        let known = vec![("name".to_owned(), "The user's name is Katya.".to_owned())];
        let m = ask(&known, &turns());
        assert_eq!(m[0].content, INSTRUCTIONS);
        assert!(m[0].content.contains("JSON"), "json_object needs the word");
        assert!(m[1].content.contains("- name: The user's name is Katya."));
        assert!(m[1].content.contains("[3] User: My dog is called Rex"));
        assert!(m[1].content.contains("[2] Character: Lovely name!"));
        for key in ["key", "fact", "source"] {
            assert!(INSTRUCTIONS.contains(&format!("\"{key}\"")), "{key}");
        }
    }
}
