//! Reads the moment from the dialog: where the scene is, read from the latest messages
//! (English and Russian keywords), and turns it with the persona's look into a prompt. A
//! simple version; the photo work adds nudity levels, pose and per-dialog scene state.

/// Places recognised in the dialog, most recent mention wins: (keywords, prompt text).
const PLACES: &[(&[&str], &str)] = &[
    (
        &["beach", "sea", "ocean", "пляж", "море"],
        "on a sunny beach",
    ),
    (
        &["cafe", "café", "coffee", "кафе", "кофейн"],
        "in a cozy café",
    ),
    (
        &["harbour", "harbor", "port", "гавань", "порт"],
        "by the harbour",
    ),
    (&["kitchen", "cook", "кухн"], "in a bright kitchen"),
    (
        &["bedroom", "bed", "спальн", "кровать"],
        "in a softly lit bedroom",
    ),
    (&["park", "forest", "парк", "лес"], "in a green park"),
    (&["mountain", "climb", "гор", "скал"], "in the mountains"),
    (&["office", "work", "офис", "работ"], "in a modern office"),
    (
        &["street", "city", "walk", "улиц", "город", "гуля"],
        "on a city street",
    ),
    (
        &["home", "sofa", "couch", "дом", "диван"],
        "at home on the sofa",
    ),
];

/// The persona's look, from the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// Appearance tags.
    pub appearance: String,
    /// Constant clothing.
    pub clothing: String,
}

/// The place of the latest message that names one, if any. `messages` is newest first.
pub fn place(messages: &[String]) -> Option<&'static str> {
    messages.iter().find_map(|m| {
        let lower = m.to_lowercase();
        PLACES
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| lower.contains(k)))
            .map(|(_, p)| *p)
    })
}

/// The positive prompt: always an adult subject, the persona's look, the scene.
pub fn prompt(look: &Look, messages: &[String]) -> String {
    let mut parts = vec!["photo of an adult woman".to_owned()];
    for p in [&look.appearance, &look.clothing] {
        if !p.trim().is_empty() {
            parts.push(p.trim().to_owned());
        }
    }
    parts.push(place(messages).unwrap_or("in a cozy room").to_owned());
    parts.push("natural light, realistic, detailed, smartphone photo".to_owned());
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_place_wins_and_prompt_states_adult() {
        let msgs = vec![
            "let's go to the beach!".to_owned(),
            "I'm in the kitchen".to_owned(),
        ];
        assert_eq!(place(&msgs), Some("on a sunny beach"));
        let look = Look {
            appearance: "woman, 26 years old, red hair".into(),
            clothing: "sweater".into(),
        };
        let p = prompt(&look, &msgs);
        assert!(p.starts_with(
            "photo of an adult woman, woman, 26 years old, red hair, sweater, on a sunny beach"
        ));
    }

    #[test]
    fn russian_places_are_read() {
        assert_eq!(place(&["Пойдём в кафе".to_owned()]), Some("in a cozy café"));
        assert_eq!(place(&["hello".to_owned()]), None);
    }
}
