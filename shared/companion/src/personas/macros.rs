//! The card macros we expand, as the V2 and V3 specs define them (any case): `{{char}}`,
//! `<char>`, `<bot>` → the character's name (V3's nickname when given); `{{user}}`, `<user>`
//! → the user's name (when the prompt is built); `{{original}}` → what the front end would
//! otherwise use there (the default system prompt, nothing after the history); and the
//! simple ones that stand for no text: `{{// note}}`, `{{comment: note}}`,
//! `{{hidden_key: key}}`, `{{noop}}`; `{{newline}}` is a line break and `{{trim}}` removes
//! the line breaks around it. Random ones (`{{random:…}}`, `{{roll:…}}`) are left as written.

/// Replaces `{{char}}` / `<char>` / `<bot>` (any case) with the persona's name.
pub fn expand_char(text: &str, name: &str) -> String {
    ["{{char}}", "<char>", "<bot>"]
        .into_iter()
        .fold(text.to_owned(), |t, m| replace_ci(&t, m, name))
}

/// Replaces `{{user}}` / `<user>` (any case) with the user's name.
pub fn expand_user(text: &str, user: &str) -> String {
    replace_ci(&replace_ci(text, "{{user}}", user), "<user>", user)
}

/// Replaces `{{original}}` (any case) with `original`: in a card's `system_prompt` the
/// default system prompt, in its `post_history_instructions` nothing.
pub fn expand_original(text: &str, original: &str) -> String {
    replace_ci(text, "{{original}}", original)
}

/// Expands the macros that need no name: comments go, `{{newline}}` breaks the line,
/// `{{trim}}` eats the line breaks around it.
pub fn expand_simple(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(len) = rest[open..].find("}}") else {
            out.push_str(&rest[open..]);
            return finish(out);
        };
        let inner = &rest[open + 2..open + len];
        let word = inner.trim().to_ascii_lowercase();
        let name = word.split(':').next().unwrap_or("").trim();
        match name {
            _ if word.starts_with("//") => {}
            "comment" | "hidden_key" if word.contains(':') => {}
            "noop" => {}
            "newline" => out.push('\n'),
            "trim" => out.push_str(TRIM),
            _ => out.push_str(&rest[open..open + len + 2]),
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    finish(out)
}

/// Marks where `{{trim}}` stood until the text around it is known.
const TRIM: &str = "\u{0}trim\u{0}";

fn finish(text: String) -> String {
    if !text.contains(TRIM) {
        return text;
    }
    let parts: Vec<&str> = text.split(TRIM).collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let breaks: &[char] = &['\n', '\r'];
            let p = if i > 0 {
                p.trim_start_matches(breaks)
            } else {
                p
            };
            if i < last {
                p.trim_end_matches(breaks)
            } else {
                p
            }
        })
        .collect()
}

/// `text` with every `pattern` (ASCII, matched in any case) replaced by `with`.
fn replace_ci(text: &str, pattern: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(pattern) {
        out.push_str(&text[last..i]);
        out.push_str(with);
        last = i + pattern.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_has_three_spellings_in_any_case() {
        assert_eq!(
            expand_char("{{Char}}, <CHAR> and <bot>", "Mira"),
            "Mira, Mira and Mira"
        );
    }

    #[test]
    fn user_has_two_spellings_in_any_case() {
        assert_eq!(
            expand_user("Hi {{User}} and <USER>", "Ann"),
            "Hi Ann and Ann"
        );
    }

    #[test]
    fn original_stands_for_what_would_be_there() {
        assert_eq!(
            expand_original("{{original}}\nAlso: be brief.", "Be kind."),
            "Be kind.\nAlso: be brief."
        );
        assert_eq!(expand_original("{{ORIGINAL}}", ""), "");
    }

    #[test]
    fn comments_go_and_layout_macros_apply() {
        assert_eq!(
            expand_simple("Hi{{// a note}} there{{comment: x}}{{hidden_key:k}}{{noop}}!"),
            "Hi there!"
        );
        assert_eq!(expand_simple("a{{newline}}b"), "a\nb");
        assert_eq!(expand_simple("a\n\n{{trim}}\r\nb"), "ab");
        assert_eq!(expand_simple("a \n{{TRIM}}\n b"), "a  b");
    }

    #[test]
    fn other_macros_and_broken_braces_stay_as_written() {
        for text in [
            "{{random:a,b}}",
            "{{roll:d6}}",
            "{{user}}",
            "x {{ y",
            "{{}}",
        ] {
            assert_eq!(expand_simple(text), text);
        }
    }
}
