//! What the model sees: the persona's system prompt (with `{{user}}` expanded) followed by the
//! latest turns of the dialog up to the message being answered (loaded by `store::begin`), and
//! what is sent back: answers longer than Telegram's 4096 characters split at paragraph boundaries.

use crate::llm::ChatMessage;
use shared::personas::expand_user;

/// Telegram's text limit in characters.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;

/// The messages for one reply: the persona's system prompt (with scenario and example
/// dialogue), the turns oldest first, then the card's post-history instructions.
pub fn messages(
    system: &str,
    post_history: &str,
    user_name: &str,
    turns: Vec<(String, String)>,
) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage {
        role: "system".into(),
        content: expand_user(system, user_name),
    }];
    messages.extend(
        turns
            .into_iter()
            .map(|(role, content)| ChatMessage { role, content }),
    );
    if !post_history.trim().is_empty() {
        messages.push(ChatMessage {
            role: "system".into(),
            content: expand_user(post_history, user_name),
        });
    }
    messages
}

/// Splits `text` into pieces of at most `limit` characters, preferring paragraph, then line,
/// then word boundaries.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > limit {
        let cut_byte = rest
            .char_indices()
            .nth(limit)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let window = &rest[..cut_byte];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&i| i > 0))
            .unwrap_or(cut_byte);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn post_history_instructions_come_after_the_turns() {
        let turns = vec![("user".to_owned(), "hi".to_owned())];
        let m = super::messages(
            "You are Stacy with {{user}}.",
            "Answer {{User}} briefly.",
            "Ann",
            turns,
        );
        let roles: Vec<&str> = m.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "system"]);
        assert_eq!(m[0].content, "You are Stacy with Ann.");
        assert_eq!(m[2].content, "Answer Ann briefly.");
        assert_eq!(super::messages("s", " ", "Ann", Vec::new()).len(), 1);
    }

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(split("hello", 10), vec!["hello"]);
    }

    #[test]
    fn long_text_splits_at_paragraphs_then_words() {
        let text = "aaaa bbbb\n\ncccc dddd eeee";
        assert_eq!(split(text, 12), vec!["aaaa bbbb", "cccc dddd", "eeee"]);
        let pieces = split(&"ж".repeat(10_000), 4096);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
    }
}
