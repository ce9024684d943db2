//! A text cut into pieces a speech API takes (at most `max` characters each): at sentence
//! ends where it can, else at a word, else anywhere — each piece one voice note, in order.

/// `text` in pieces of at most `max` characters (`max` ≥ 1), cut after `.`, `!`, `?`, `…` or a
/// line break where possible, else at a space; no piece is empty or only whitespace.
pub fn sentences(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for sentence in split_keeping_ends(text) {
        if current.chars().count() + sentence.chars().count() <= max {
            current.push_str(sentence);
            continue;
        }
        push(&mut out, std::mem::take(&mut current));
        if sentence.chars().count() <= max {
            current.push_str(sentence);
        } else {
            // The long sentence's last piece may share a note with the next sentences.
            let mut pieces = by_words(sentence, max);
            current = pieces.pop().unwrap_or_default();
            for piece in pieces {
                push(&mut out, piece);
            }
        }
    }
    push(&mut out, current);
    out
}

fn push(out: &mut Vec<String>, piece: String) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece.to_owned());
    }
}

/// The sentences of `text`, each with the punctuation and spaces that end it.
fn split_keeping_ends(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut ended = false;
    for (i, c) in text.char_indices() {
        if ended && !c.is_whitespace() && !matches!(c, '.' | '!' | '?' | '…' | '"' | '»' | ')') {
            out.push(&text[start..i]);
            start = i;
            ended = false;
        }
        if matches!(c, '.' | '!' | '?' | '…' | '\n') {
            ended = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A sentence longer than `max`, at spaces (a word longer than `max` is cut anywhere).
fn by_words(sentence: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in sentence.split_inclusive(char::is_whitespace) {
        if current.chars().count() + word.chars().count() > max && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if word.chars().count() > max {
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(max) {
                out.push(chunk.iter().collect());
            }
        } else {
            current.push_str(word);
        }
    }
    out.push(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_one_piece() {
        assert_eq!(
            sentences("Hello there. How are you?", 100),
            vec!["Hello there. How are you?"]
        );
        assert!(sentences("   ", 10).is_empty());
    }

    #[test]
    fn long_texts_are_cut_at_sentence_ends_within_the_limit() {
        let text = "First one here. Second one is longer! Third? Fourth… Fifth.";
        let parts = sentences(text, 30);
        assert_eq!(
            parts,
            vec![
                "First one here.",
                "Second one is longer! Third?",
                "Fourth… Fifth."
            ]
        );
        for p in &parts {
            assert!(p.chars().count() <= 30);
        }
        assert_eq!(parts.join(" "), text);
    }

    #[test]
    fn a_sentence_over_the_limit_is_cut_at_words_and_a_huge_word_anywhere() {
        let parts = sentences("один два три четыре пять", 10);
        assert_eq!(parts, vec!["один два", "три", "четыре", "пять"]);
        let parts = sentences(&"x".repeat(25), 10);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![10, 10, 5]
        );
    }

    #[test]
    fn the_end_of_a_long_sentence_shares_a_piece_with_the_next() {
        let parts = sentences(
            "I love hearing that: \"I just got back from the beach\". Tell me more?",
            50,
        );
        assert_eq!(
            parts,
            vec![
                "I love hearing that: \"I just got back from the",
                "beach\". Tell me more?"
            ]
        );
    }

    #[test]
    fn quotes_and_repeated_marks_stay_with_their_sentence() {
        let parts = sentences("She said \"Go!\" Then left... Bye", 16);
        assert_eq!(parts, vec!["She said \"Go!\"", "Then left... Bye"]);
    }
}
