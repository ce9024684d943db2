//! What the model sees: the persona's system prompt (with `{{user}}` expanded) followed by the
//! latest turns of the dialog up to the message being answered (loaded by `store::begin`), and
//! what is sent back: answers longer than Telegram's 4096 characters split at paragraph boundaries.

use crate::llm::ChatMessage;
use shared::personas::expand_user;

/// Telegram's text limit in characters.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;

/// The messages for one reply: the persona's system prompt, then the turns oldest first.
pub fn messages(system: &str, user_name: &str, turns: Vec<(String, String)>) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage {
        role: "system".into(),
        content: expand_user(system, user_name),
    }];
    messages.extend(
        turns
            .into_iter()
            .map(|(role, content)| ChatMessage { role, content }),
    );
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
