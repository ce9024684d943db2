//! An answer's text, apart from how it travels: what of a partial answer may be shown while
//! it streams, and what is kept once it is complete — reasoning models' `<think>…</think>`
//! blocks removed, an empty answer a failure.

use runtime::HandlerError;

/// The answer once it is complete: thinking removed; an empty answer is a failure.
pub fn finish(text: &str) -> Result<String, HandlerError> {
    let clean = strip_thinking(text);
    if clean.is_empty() {
        return Err(HandlerError::transient(
            "llm answered with an empty message",
        ));
    }
    Ok(clean)
}

/// Removes `<think>…</think>` blocks some reasoning models leave in `content`.
pub fn strip_thinking(text: &str) -> String {
    let mut out = text.to_owned();
    while let (Some(a), Some(b)) = (out.find("<think>"), out.find("</think>")) {
        if b < a {
            break;
        }
        out.replace_range(a..b + "</think>".len(), "");
    }
    out.trim().to_owned()
}

/// What of a partial answer may be shown: complete `<think>…</think>` blocks removed and an
/// unfinished one cut off.
pub fn showable(text: &str) -> String {
    let clean = strip_thinking(text);
    match clean.find("<think>") {
        Some(i) => clean[..i].trim_end().to_owned(),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::{showable, strip_thinking};

    #[test]
    fn thinking_is_stripped() {
        assert_eq!(strip_thinking("<think>hmm</think> Hello!"), "Hello!");
        assert_eq!(strip_thinking("plain"), "plain");
    }

    #[test]
    fn unfinished_thinking_is_not_shown() {
        assert_eq!(showable("<think>a</think>Hi there"), "Hi there");
        assert_eq!(showable("Hi <think>wait"), "Hi");
        assert_eq!(showable("plain"), "plain");
    }
}
