//! Anti-repetition: how alike two answers are, measured as the Dice coefficient of their word
//! pairs (lower-cased, punctuation ignored; single words for very short answers). An answer at
//! or above [`THRESHOLD`] against one of the persona's last few answers is written once more.

use std::collections::HashSet;

use crate::llm::ChatMessage;

/// Similarity from which an answer counts as a repetition.
pub const THRESHOLD: f64 = 0.6;
/// Answers shorter than this many words may repeat ("Of course!" twice is natural).
pub const MIN_WORDS: usize = 12;

/// The persona's last `n` answers in the messages sent to the model.
pub fn recent_answers(messages: &[ChatMessage], n: usize) -> Vec<String> {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == "assistant")
        .take(n)
        .map(|m| m.content.clone())
        .collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn shingles(words: &[String]) -> HashSet<String> {
    if words.len() < 4 {
        return words.iter().cloned().collect();
    }
    words
        .windows(2)
        .map(|w| format!("{} {}", w[0], w[1]))
        .collect()
}

/// Dice coefficient of the two texts' word pairs: 1 for the same words in the same order, 0
/// for nothing in common.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (shingles(&words(a)), shingles(&words(b)));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.intersection(&b).count() as f64;
    2.0 * common / (a.len() + b.len()) as f64
}

/// Whether `text` (of at least [`MIN_WORDS`] words) repeats one of `recent`.
pub fn repeats(text: &str, recent: &[String]) -> bool {
    words(text).len() >= MIN_WORDS && recent.iter().any(|r| similarity(text, r) >= THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_answer_reworded_slightly_is_a_repetition() {
        let a = "Oh, you always know how to make me smile. Tell me more about your day?";
        let b = "Oh you always know how to make me smile! Tell me more about your day.";
        assert!(similarity(a, b) > 0.99);
        let c = "Oh, you always know how to make me smile. Tell me more about your evening?";
        assert!(similarity(a, c) >= THRESHOLD, "{}", similarity(a, c));
        assert!(repeats(c, &["something else".into(), a.into()]));
    }

    #[test]
    fn different_answers_are_not() {
        let a = "Oh, you always know how to make me smile. Tell me more about your day?";
        let b = "I spent the afternoon at the library, and then I got lost on the way home.";
        assert!(similarity(a, b) < 0.2, "{}", similarity(a, b));
        let ru1 = "Привет! Я так рада тебя видеть, как прошёл твой день?";
        let ru2 = "Я сегодня гуляла по парку и думала о нашем разговоре.";
        assert!(!repeats(ru1, &[ru2.into()]));
        let ru3 = "Привет! Я так рада тебя видеть, как прошёл твой день? Расскажи мне всё-всё.";
        let ru4 = "Привет! Я так рада тебя видеть. Как прошёл твой день? Расскажи мне всё-всё!";
        assert!(repeats(ru4, &[ru3.into()]));
        assert_eq!(similarity("", "x"), 0.0);
        assert!(!repeats("Yes.", &["No.".into()]));
        assert!(!repeats(
            "Of course, darling!",
            &["Of course, darling!".into()]
        ));
    }

    #[test]
    fn only_the_last_answers_count() {
        let m = |role: &str, c: &str| ChatMessage {
            role: role.into(),
            content: c.into(),
        };
        let msgs = vec![
            m("system", "s"),
            m("assistant", "a1"),
            m("user", "u"),
            m("assistant", "a2"),
        ];
        assert_eq!(recent_answers(&msgs, 1), vec!["a2".to_owned()]);
        assert_eq!(recent_answers(&msgs, 5).len(), 2);
    }
}
