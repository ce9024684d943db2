//! The persona's lorebook in the prompt. The entries the latest turns activate (the newest
//! `scan_depth` of the turns loaded, the message being answered first; see
//! `companion::personas::lorebook`) go into the system prompt around the persona's
//! definition. That definition is stored as one string already joined (system prompt,
//! description, personality, scenario, the adults-only line, examples), so `before_char`
//! entries go before all of it and `after_char` entries after all of it — and before the
//! answer-language line the caller appends.

use companion::personas::lorebook::{Lorebook, Scan};

use crate::store::Turn;

/// The share of the prompt's budget the lore may take (a book's own budget may only lower
/// it): a quarter, SillyTavern's default.
pub const SHARE: usize = 4;

/// `definition` with the entries `turns` activate in `book` around it; `user` is the user's
/// name, `budget` the whole prompt's token budget.
pub fn around(
    definition: &str,
    book: Option<&Lorebook>,
    turns: &[Turn],
    user: &str,
    budget: usize,
) -> String {
    let Some(book) = book else {
        return definition.to_owned();
    };
    let newest_first: Vec<&str> = turns.iter().rev().map(|t| t.1.as_str()).collect();
    let activated = book.activate(&Scan {
        newest_first: &newest_first,
        user,
        budget: budget / SHARE,
        // The message answered: a redelivery or a second version rolls the same way.
        seed: turns.last().map_or(0, |t| t.2 as u64),
        picture: false,
    });
    if !activated.is_empty() {
        tracing::debug!(
            before = activated.before.len(),
            after = activated.after.len(),
            "lorebook entries in the prompt"
        );
    }
    activated.around(definition)
}

#[cfg(test)]
mod tests {
    use companion::personas::lorebook::from_card;
    use serde_json::json;

    fn book() -> companion::personas::lorebook::Lorebook {
        let card = json!({"entries": [
            {"keys": ["harbour"], "content": "The harbour of {{char}}'s town smells of tar.",
             "enabled": true, "insertion_order": 1, "position": "before_char", "extensions": {}},
            {"keys": ["lighthouse"], "content": "The lighthouse is red and white.",
             "enabled": true, "insertion_order": 2, "position": "after_char", "extensions": {}},
            {"keys": [], "constant": true, "content": "{{user}} and Mira met last summer.",
             "enabled": true, "insertion_order": 3, "position": "after_char", "extensions": {}}
        ]});
        from_card("mira.json", Some(&card), "Mira").book.unwrap()
    }

    fn turn(role: &str, text: &str, id: i64) -> crate::store::Turn {
        (role.to_owned(), text.to_owned(), id)
    }

    #[test]
    fn activated_entries_go_around_the_definition_by_position() {
        let b = book();
        let turns = [
            turn("user", "the lighthouse!", 1),
            turn("assistant", "yes?", 2),
            turn("user", "walk to the harbour", 3),
        ];
        let system = super::around("You are Mira.", Some(&b), &turns, "Ann", 6000);
        assert_eq!(
            system,
            "The harbour of Mira's town smells of tar.\n\nYou are Mira.\n\n\
             {{user}} and Mira met last summer.",
            "the lighthouse is three messages back, beyond the default depth of two"
        );
        let turns = [
            turn("assistant", "the lighthouse", 2),
            turn("user", "ok", 3),
        ];
        assert_eq!(
            super::around("You are Mira.", Some(&b), &turns, "Ann", 6000),
            "You are Mira.\n\nThe lighthouse is red and white.\n\n\
             {{user}} and Mira met last summer."
        );
        assert_eq!(
            super::around("You are Mira.", None, &turns, "Ann", 6000),
            "You are Mira."
        );
    }

    #[test]
    fn the_lore_takes_at_most_a_quarter_of_the_prompt() {
        let b = book();
        let turns = [turn("user", "harbour", 1)];
        // 14 + 12 tokens of lore: a quarter of 60 keeps only the higher order (the constant).
        let system = super::around("Def.", Some(&b), &turns, "Ann", 60);
        assert_eq!(system, "Def.\n\n{{user}} and Mira met last summer.");
    }
}
