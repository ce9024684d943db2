//! The persona's lorebook in a photo's scene: the entries the moment activates — scanned, as
//! fn-reply scans them, in the dialog's latest messages, with the user's wish for the photo as
//! the newest — go to the scene model, so the picture follows the story's lore (how a place
//! looks, who is there). Only entries whose text passed the picture rules at load take part.

use companion::personas::expand_user;
use companion::personas::lorebook::{Lorebook, Scan};

/// Tokens the lore may take in a scene call (a book's own budget may only lower it): the
/// scene call is short, so is its share.
pub const SCENE_BUDGET: usize = 600;

/// How the scene call names the user (`{{user}}` in an entry).
const USER: &str = "User";

/// The texts `book` activates for a photo asked with `wish` after `newest_first` (the
/// dialog's latest messages, `(role, text)`, newest first); `seed` rolls the probabilities.
pub fn activated(
    book: Option<&Lorebook>,
    wish: Option<&str>,
    newest_first: &[(String, String)],
    seed: u64,
) -> Vec<String> {
    let Some(book) = book else {
        return Vec::new();
    };
    let texts: Vec<&str> = wish
        .into_iter()
        .chain(newest_first.iter().map(|(_, t)| t.as_str()))
        .collect();
    let a = book.activate(&Scan {
        newest_first: &texts,
        user: USER,
        budget: SCENE_BUDGET,
        seed,
        picture: true,
    });
    a.texts().map(|t| expand_user(t, USER)).collect()
}

#[cfg(test)]
mod tests {
    use companion::personas::lorebook::from_card;
    use serde_json::json;

    fn book() -> companion::personas::lorebook::Lorebook {
        let card = json!({"entries": [
            {"keys": ["lighthouse"], "content": "The lighthouse is painted red and white.",
             "enabled": true, "insertion_order": 2, "extensions": {}},
            {"keys": ["garden"], "content": "{{user}}'s garden is full of roses.",
             "enabled": true, "insertion_order": 1, "extensions": {}},
            {"keys": ["sister"], "content": "Her sister's kids visit on Sundays.",
             "enabled": true, "insertion_order": 3, "extensions": {}}
        ]});
        from_card("mira.json", Some(&card), "Mira").book.unwrap()
    }

    fn said(role: &str, text: &str) -> (String, String) {
        (role.to_owned(), text.to_owned())
    }

    #[test]
    fn the_wish_and_the_latest_messages_activate_entries_for_the_scene() {
        let b = book();
        let recent = [said("assistant", "the lighthouse?"), said("user", "hm")];
        assert_eq!(
            super::activated(Some(&b), Some("in the garden"), &recent, 1),
            [
                "User's garden is full of roses.",
                "The lighthouse is painted red and white."
            ]
        );
        assert!(super::activated(Some(&b), None, &[said("user", "hi")], 1).is_empty());
        assert!(super::activated(None, Some("garden"), &recent, 1).is_empty());
    }

    #[test]
    fn an_entry_the_picture_rules_refuse_never_shapes_a_scene() {
        let b = book();
        assert!(!b.entries[2].picture);
        let recent = [said("user", "my sister and the garden")];
        assert_eq!(
            super::activated(Some(&b), None, &recent, 1),
            ["User's garden is full of roses."]
        );
    }
}
