//! An answer's text, apart from how it travels: what of a partial answer may be shown while
//! it streams, and what is kept once it is complete — reasoning models' `<think>…</think>`
//! blocks removed, an empty answer a failure — and the jobs a new answer queues with it.

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

/// The jobs a new answer queues in its own commit: the rolling summary and a memory
/// extraction when they are due, and its voice notes when the user wants answers in voice.
pub fn follow_ups(
    d: &mut runtime::effects::Decision,
    env: &runtime::envelope::Envelope<companion::jobs::ReplyJob>,
    (summary_due, memory_due): (Option<i64>, Option<i64>),
    in_voice: bool,
) {
    use runtime::nats::topology::REPLY_SUBJECT;
    if let Some(upto) = summary_due {
        d.job(REPLY_SUBJECT, &crate::summary::job(env, upto));
    }
    if let Some(upto) = memory_due {
        d.job(REPLY_SUBJECT, &crate::memory::job(env, upto));
    }
    if in_voice {
        let speak = Some(companion::jobs::Speak {
            answer_id: None,
            index: 0,
        });
        let job = companion::jobs::ReplyJob {
            speak,
            ..env.payload.clone()
        };
        let spoken = runtime::envelope::Envelope::new(env.trace_id.clone(), job);
        d.job(REPLY_SUBJECT, &spoken);
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
