//! Texts that take more than a lookup in the locale files (`crate::locale`): a value to fill
//! in, or a shortened quote. Handlers never spell user-facing text themselves.

pub use crate::locale::{Lang, T, t, tf};

/// A message longer than the configured limit.
pub fn too_long(lang: Lang, limit: usize) -> String {
    tf(lang, T::TooLong, &[("limit", &limit)])
}

/// Over the per-user message rate (said once per wait).
pub fn slow_down(lang: Lang, seconds: u64) -> String {
    tf(lang, T::SlowDown, &[("seconds", &seconds)])
}

/// Taking up a dialog again: how long it is, and her last message.
pub fn resumed(lang: Lang, name: &str, messages: i64, last: Option<&str>) -> String {
    let mut text = tf(
        lang,
        T::Resumed,
        &[("name", &name), ("messages", &messages)],
    );
    if let Some(last) = last {
        text += &format!(
            "\n\n{}\n{}",
            t(lang, T::HerLastMessage),
            shorten(last, 1000)
        );
    }
    text
}

/// The echo of a voice note's words ("🎤 …"), brief: a long one is shortened.
pub fn heard(lang: Lang, text: &str) -> String {
    tf(lang, T::VoiceHeard, &[("text", &shorten(text, 300))])
}

/// Over the daily seconds of voice notes.
pub fn voice_daily_limit(lang: Lang, seconds: u32) -> String {
    tf(lang, T::VoiceDailyLimit, &[("seconds", &seconds)])
}

/// At most `max` characters of `text`, cut at a word boundary with "…" when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    let cut = head.rfind(char::is_whitespace).unwrap_or(head.len());
    format!("{}…", head[..cut].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_cut_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three", 9), "one two…");
        let r = resumed(Lang::Ru, "Стейси", 3, Some("Привет"));
        assert!(r.contains("Стейси") && r.contains("Привет") && r.contains('3'));
    }
}
