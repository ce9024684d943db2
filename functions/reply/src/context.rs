//! What the model sees: the persona's system prompt (with `{{user}}` expanded) followed by the
//! latest turns of the dialog up to the message being answered, and what is sent back:
//! answers longer than Telegram's 4096 characters split at paragraph boundaries.

use shared::personas::expand_user;
use sqlx::PgPool;

use crate::llm::ChatMessage;

/// Telegram's text limit in characters.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;

/// Builds the messages for one reply, in one statement; `None` when the user message or the
/// dialog is gone.
pub async fn load(
    pool: &PgPool,
    dialog_id: i64,
    user_message_id: i64,
    history: i64,
) -> sqlx::Result<Option<Vec<ChatMessage>>> {
    type Turns = sqlx::types::Json<Vec<(String, String)>>;
    let row: Option<(String, String, Turns)> = sqlx::query_as(
        // An answer is placed right after the message it answers (its id may be larger than
        // later user messages when those arrived while it was being written).
        "SELECT g.system_prompt, u.first_name, COALESCE((
             SELECT json_agg(json_build_array(t.role, t.content) ORDER BY t.k, t.id)
             FROM (SELECT role, content, COALESCE(reply_to, id) AS k, id FROM chat_messages
                   WHERE dialog_id = $1 AND (id <= $2 OR reply_to < $2)
                   ORDER BY COALESCE(reply_to, id) DESC, id DESC LIMIT $3) t), '[]'::json)
         FROM dialogs d
         JOIN girls g ON g.id = d.girl_id JOIN users u ON u.id = d.user_id
         JOIN chat_messages m ON m.id = $2 AND m.dialog_id = d.id
         WHERE d.id = $1",
    )
    .bind(dialog_id)
    .bind(user_message_id)
    .bind(history)
    .fetch_optional(pool)
    .await?;
    let Some((system, user_name, turns)) = row else {
        return Ok(None);
    };
    let mut messages = vec![ChatMessage {
        role: "system".into(),
        content: expand_user(&system, &user_name),
    }];
    messages.extend(
        turns
            .0
            .into_iter()
            .map(|(role, content)| ChatMessage { role, content }),
    );
    Ok(Some(messages))
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
