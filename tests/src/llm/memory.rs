//! The LLM stand-in as a memory extractor: asked by fn-reply's memory call (its instructions
//! begin with [`ASKED_BY`]), it reads the numbered messages it is sent and answers with the
//! facts a model would draw from them — deterministically, from a few phrasings: "my name is
//! X", "my dog is called Y" (any "my <who> is called <name>"), "my <who> is <n>" (an age),
//! "I was <n> when I first had sex" (what a careless model would write down).
//! Nothing is canned: a conversation without those phrasings gives `{"facts": []}`. Asked in
//! plain text, the object comes in words and a code fence, as chat models write.

use serde_json::{Value, json};

/// How the memory call's instructions begin.
pub const ASKED_BY: &str = "You keep the long-term memory";

/// The facts answer to a memory call, `None` for any other request.
pub fn facts_answer(request: &Value) -> Option<String> {
    let messages = request["messages"].as_array()?;
    let asked = messages.iter().any(|m| {
        m["role"] == "system"
            && m["content"]
                .as_str()
                .is_some_and(|c| c.starts_with(ASKED_BY))
    });
    if !asked {
        return None;
    }
    let said = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let facts: Vec<Value> = said.lines().flat_map(facts_of_line).collect();
    let object = json!({ "facts": facts }).to_string();
    Some(match request["response_format"]["type"].as_str() {
        Some("json_schema" | "json_object") => object,
        _ => format!("Here is what to remember:\n```json\n{object}\n```"),
    })
}

/// The facts in one transcript line `[n] User: text` (the character's lines give none).
fn facts_of_line(line: &str) -> Vec<Value> {
    let Some((number, rest)) = line
        .strip_prefix('[')
        .and_then(|l| l.split_once("] User: "))
    else {
        return Vec::new();
    };
    let source: i64 = number.parse().unwrap_or(0);
    let words: Vec<String> = rest
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
        .collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let mut out = Vec::new();
    if let Some(i) = lower.windows(2).position(|w| w[0] == "i" && w[1] == "was")
        && let Some(n) = lower.get(i + 2).filter(|n| n.parse::<u32>().is_ok())
        && lower.iter().any(|w| w == "sex")
    {
        out.push(json!({
            "key": "first_time", "fact": format!("The user was {n} when they first had sex."), "source": source,
        }));
    }
    for i in 0..lower.len() {
        if lower[i] != "my" {
            continue;
        }
        let at = |k: usize| lower.get(i + k).map(String::as_str);
        let word = |k: usize| words.get(i + k).cloned().unwrap_or_default();
        match (at(1), at(2), at(3)) {
            (Some("name"), Some("is"), Some(_)) => out.push(json!({
                "key": "name", "fact": format!("The user's name is {}.", word(3)), "source": source,
            })),
            (Some(who), Some("is"), Some("called")) if at(4).is_some() => out.push(json!({
                "key": who, "fact": format!("The user has a {who} called {}.", word(4)), "source": source,
            })),
            (Some(who), Some("is"), Some(n)) if n.parse::<u32>().is_ok() => out.push(json!({
                "key": format!("{who}_age"), "fact": format!("The user's {who} is {n} years old."), "source": source,
            })),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(said: &str) -> Value {
        json!({"messages": [
            {"role": "system", "content": format!("{ASKED_BY} of a companion. Answer JSON.")},
            {"role": "user", "content": said},
        ], "response_format": {"type": "json_object"}})
    }

    #[test]
    fn facts_come_from_the_users_lines_only() {
        let said = "Known facts:\n(nothing yet)\n\nNew messages:\n[1] User: Hi, my name is Katya!\n\
                    [2] Character: my name is Stacy\n[3] User: And my dog is called Rex.\n[4] User: my sister is 15";
        let answer: Value = serde_json::from_str(&facts_answer(&call(said)).unwrap()).unwrap();
        let facts = answer["facts"].as_array().unwrap();
        assert_eq!(facts.len(), 3, "{answer}");
        assert_eq!(facts[0]["fact"], "The user's name is Katya.");
        assert_eq!(facts[0]["source"], 1);
        assert_eq!(facts[1]["fact"], "The user has a dog called Rex.");
        assert_eq!(facts[1]["key"], "dog");
        assert_eq!(facts[2]["fact"], "The user's sister is 15 years old.");
        let said = "[1] User: I was 15 when I first had sex.";
        let answer: Value = serde_json::from_str(&facts_answer(&call(said)).unwrap()).unwrap();
        assert_eq!(
            answer["facts"][0]["fact"],
            "The user was 15 when they first had sex."
        );
    }

    #[test]
    fn other_calls_are_not_answered_and_plain_text_wraps_the_object() {
        let chat = json!({"messages": [{"role": "system", "content": "You are Stacy"}]});
        assert_eq!(facts_answer(&chat), None);
        let mut plain = call("[1] User: nothing to see");
        plain["response_format"] = Value::Null;
        let answer = facts_answer(&plain).unwrap();
        assert!(answer.contains("```json\n{\"facts\":[]}\n```"), "{answer}");
    }
}
