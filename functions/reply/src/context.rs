//! What the model sees: the persona's system prompt (with `{{user}}` expanded, and the
//! lorebook entries the latest turns activate around her definition: `lore`), the rolling
//! summary of what no longer fits, what she remembers about the user (`memory::rank`), the
//! latest turns up to the message being answered (loaded
//! by `store::begin`) within a token budget, and the post-history instructions; and what is
//! sent back: answers longer than Telegram's 4096 (UTF-16 units) split at paragraph boundaries.

use companion::locale::{Lang, T, t};
use companion::personas::expand_user;
use runtime::HandlerError;

use crate::llm::ChatMessage;
use crate::store::{self, Turn};

/// Telegram's text limit in characters.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;

/// A rough token count: about three characters a token (English runs nearer four, Russian
/// nearer two and a half; erring high keeps the prompt inside the model's context), plus a
/// few tokens of framing per message.
pub fn tokens(text: &str) -> usize {
    companion::personas::lorebook::tokens(text) + 4
}

/// What goes into one prompt besides the turns.
pub struct Frame<'a> {
    /// The persona's system prompt (with scenario, examples and the answer language).
    pub system: &'a str,
    /// The card's post-history instructions (may be empty).
    pub post_history: &'a str,
    /// The rolling summary of the turns no longer in the prompt (may be empty).
    pub summary: &'a str,
    /// What she remembers about the user, as one block (may be empty).
    pub memory: &'a str,
    /// The user's first name, for `{{user}}`.
    pub user_name: &'a str,
}

/// The prompt within `budget` tokens: system prompt, the story so far (the summary), what
/// she remembers about the user, the newest turns that fit (the oldest drop first; the last exchange always stays), then the
/// post-history instructions. Also returns how many turns were dropped.
pub fn messages(f: &Frame<'_>, turns: Vec<Turn>, budget: usize) -> (Vec<ChatMessage>, usize) {
    let msg = |role: &str, content: String| ChatMessage {
        role: role.to_owned(),
        content,
    };
    let mut head = vec![msg("system", expand_user(f.system, f.user_name))];
    if !f.summary.trim().is_empty() {
        head.push(msg(
            "system",
            format!("{STORY_SO_FAR}\n{}", f.summary.trim()),
        ));
    }
    if !f.memory.is_empty() {
        head.push(msg("system", f.memory.to_owned()));
    }
    let tail = (!f.post_history.trim().is_empty())
        .then(|| msg("system", expand_user(f.post_history, f.user_name)));
    let fixed: usize = head.iter().chain(&tail).map(|m| tokens(&m.content)).sum();
    // The last exchange: the newest user message and whatever follows it.
    let last_user = turns.iter().rposition(|t| t.0 == "user").unwrap_or(0);
    let mut used = fixed;
    let mut keep_from = turns.len();
    for (i, t) in turns.iter().enumerate().rev() {
        let cost = tokens(&t.1);
        if i < last_user && used + cost > budget {
            break;
        }
        used += cost;
        keep_from = i;
    }
    let dropped = keep_from;
    head.extend(
        turns
            .into_iter()
            .skip(keep_from)
            .map(|(role, content, _)| msg(&role, content)),
    );
    head.extend(tail);
    (head, dropped)
}

/// The prompt of a job and what it left out.
pub struct Prompt {
    /// The messages for the model.
    pub messages: Vec<ChatMessage>,
    /// A summary is due: queue its job (for a summary covering messages up to this id).
    pub summary_due: Option<i64>,
    /// A memory extraction is due: queue its job (for the facts beyond this message id).
    pub memory_due: Option<i64>,
    /// Ask whether this persona may write first (see `store::Begin::offer_nudge`).
    pub offer_nudge: Option<i32>,
}

/// The model's messages from a job's first statement, within `budget` tokens; an error when
/// the dialog or the message is gone (nothing to answer, ever). `memory_every`: the user
/// messages a memory extraction waits for (0: never).
pub fn to_messages(
    b: store::Begin,
    lang: Lang,
    budget: usize,
    (history, memory_every): (i64, i64),
) -> Result<Prompt, HandlerError> {
    let offer_nudge = b.offer_nudge;
    let (Some(system), Some(user), Some(turns)) = (b.system_prompt, b.user_name, b.turns) else {
        return Err(HandlerError::permanent(
            "the dialog or the message to answer is gone",
        ));
    };
    // The user's Telegram name goes into the prompt: one that brings a minor in is not used.
    let user = if companion::content::safety::check(&user).is_some() {
        NEUTRAL_NAME.to_owned()
    } else {
        user
    };
    let book = b.lorebook.as_ref().and_then(|j| j.0.0.as_ref());
    let system = crate::lore::around(&system, book, &turns.0, &user, budget);
    let system = format!("{system}\n\n{}", t(lang, T::AnswerLanguage));
    let post = b.post_history.unwrap_or_default();
    // Nor one that passes alone but, put in place of `{{user}}`, makes the persona's words
    // say a minor ("She is {{user}} years old." and the name "14").
    let user = if [&system, &post].iter().any(|t| name_brings_minor(t, &user)) {
        NEUTRAL_NAME.to_owned()
    } else {
        user
    };
    // A summary written before the model's words were checked may carry what they now catch.
    let summary = b
        .summary
        .filter(|s| companion::content::safety::answer_refusal(s, false).is_none())
        .unwrap_or_default();
    let latest = turns.0.iter().rev().find(|t| t.0 == "user");
    let facts = b.facts.as_ref().map(|f| f.0.as_slice()).unwrap_or(&[]);
    let latest = latest.map_or("", |t| t.1.as_str());
    let chosen = crate::memory::rank::choose(facts, latest, budget / MEMORY_SHARE);
    let memory = crate::memory::rank::block(&chosen, &user);
    let frame = Frame {
        system: &system,
        post_history: &post,
        summary: &summary,
        memory: &memory,
        user_name: &user,
    };
    let (messages, dropped) = messages(&frame, turns.0, budget);
    let unsummarized = b.unsummarized.unwrap_or(0);
    let summary_due =
        crate::summary::due(dropped, unsummarized, history).then_some(b.summary_upto.unwrap_or(0));
    let memory_due = crate::memory::due(memory_every, b.unremembered.unwrap_or(0))
        .then_some(b.memory_upto.unwrap_or(0));
    Ok(Prompt {
        messages,
        summary_due,
        memory_due,
        offer_nudge,
    })
}

/// Whether `name` in place of `{{user}}` makes `text` fail the minor-safety scan where the
/// neutral name does not.
fn name_brings_minor(text: &str, name: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("{{user}}") && !lower.contains("<user>") {
        return false;
    }
    let fails = |name: &str| companion::content::safety::check(&expand_user(text, name)).is_some();
    fails(name) && !fails(NEUTRAL_NAME)
}

/// The share of the prompt's budget remembered facts may take at most (an eighth).
const MEMORY_SHARE: usize = 8;

/// The user's name in the prompt when their own one fails the minor-safety scan.
pub const NEUTRAL_NAME: &str = "User";

/// Heads the rolling summary in the prompt.
pub const STORY_SO_FAR: &str = "The story so far (earlier messages, summarised):";

/// Splits `text` into pieces of at most `limit` UTF-16 code units — the unit Telegram
/// measures texts and entities in (an emoji is two) — preferring paragraph, then line, then
/// sentence, then word boundaries.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while utf16_len(rest) > limit {
        let cut_byte = utf16_cut(rest, limit);
        let window = &rest[..cut_byte];
        // Paragraph, line, sentence (after its mark), then word; mid-word only for one word
        // longer than the limit.
        let cut = ["\n\n", "\n", ". ", "! ", "? ", "… ", " "]
            .iter()
            .find_map(|sep| {
                let keep = sep.trim_end().len();
                window.rfind(sep).filter(|&i| i > 0).map(|i| i + keep)
            })
            .unwrap_or(cut_byte.max(rest.chars().next().map_or(1, char::len_utf8)));
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

/// Length in UTF-16 code units, as Telegram counts.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The largest byte index of `text` on a character boundary whose prefix has at most `limit`
/// UTF-16 code units.
fn utf16_cut(text: &str, limit: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += c.len_utf16();
        if units > limit {
            return i;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::split;

    fn turn(role: &str, text: &str, id: i64) -> super::Turn {
        (role.to_owned(), text.to_owned(), id)
    }

    fn frame<'a>(summary: &'a str) -> super::Frame<'a> {
        super::Frame {
            system: "You are Stacy with {{user}}.",
            post_history: "Answer {{User}} briefly.",
            summary,
            memory: "",
            user_name: "Ann",
        }
    }

    #[test]
    fn a_name_that_makes_the_persona_say_a_minor_age_is_not_used() {
        let lore = "Mira is 30. She says she is {{user}} years old.";
        assert!(super::name_brings_minor(lore, "14"));
        assert!(!super::name_brings_minor(lore, "Ann"));
        assert!(!super::name_brings_minor("Mira is 30.", "14"));
    }

    #[test]
    fn post_history_instructions_come_after_the_turns() {
        let (m, dropped) = super::messages(&frame(""), vec![turn("user", "hi", 1)], 1000);
        let roles: Vec<&str> = m.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "system"]);
        assert_eq!(m[0].content, "You are Stacy with Ann.");
        assert_eq!(m[2].content, "Answer Ann briefly.");
        assert_eq!(dropped, 0);
        let bare = super::Frame {
            post_history: " ",
            ..frame("")
        };
        assert_eq!(super::messages(&bare, Vec::new(), 1000).0.len(), 1);
    }

    #[test]
    fn the_oldest_turns_drop_first_and_the_last_exchange_always_stays() {
        let long = "x".repeat(300); // 104 tokens
        let turns: Vec<_> = (0..10)
            .map(|i| turn(if i % 2 == 0 { "user" } else { "assistant" }, &long, i))
            .collect();
        let (m, dropped) = super::messages(&frame("They met at the library."), turns.clone(), 500);
        let total: usize = m.iter().map(|m| super::tokens(&m.content)).sum();
        assert!(total <= 500, "{total}");
        assert_eq!(dropped, 10 - (m.len() - 3));
        assert!(dropped > 0);
        assert!(m[1].content.starts_with(super::STORY_SO_FAR) && m[1].content.contains("library"));
        assert_eq!(m.last().unwrap().content, "Answer Ann briefly.");
        // However small the budget, the system prompt and the last exchange stay.
        let (m, dropped) = super::messages(&frame(""), turns, 10);
        assert_eq!(
            m.len(),
            4,
            "system, last user message, its answer, post-history"
        );
        assert_eq!(dropped, 8);
        assert!(super::tokens("привет") >= 2);
    }

    #[test]
    fn short_text_is_one_piece() {
        assert_eq!(split("hello", 10), vec!["hello"]);
    }

    #[test]
    fn long_text_splits_at_paragraphs_then_words() {
        let text = "aaaa bbbb\n\ncccc dddd eeee";
        assert_eq!(split(text, 12), vec!["aaaa bbbb", "cccc dddd", "eeee"]);
        let text = "One two. Three four five six";
        assert_eq!(split(text, 20), vec!["One two.", "Three four five six"]);
        let words = "word ".repeat(2000);
        assert!(
            split(&words, 4096)
                .iter()
                .all(|p| p.split(' ').all(|w| w == "word"))
        );
        let emoji = "😊 ".repeat(1500);
        let pieces = split(&emoji, 4096);
        assert!(pieces.iter().all(|p| super::utf16_len(p) <= 4096));
        assert_eq!(pieces.concat().replace(' ', ""), emoji.replace(' ', ""));
        let pieces = split(&"😊".repeat(5000), 4096);
        assert!(pieces.iter().all(|p| super::utf16_len(p) <= 4096));
        assert_eq!(pieces.concat(), "😊".repeat(5000));
        let pieces = split(&"ж".repeat(10_000), 4096);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
    }
}
