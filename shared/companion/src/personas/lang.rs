//! Greetings in the user's language: a card may carry, beside its own `first_mes` and
//! `alternate_greetings`, translations under `data.extensions.companion.lang.<code>` (an
//! ISO 639-1 code, as `Lang::code` writes it): `first_mes` (required there) and
//! `alternate_greetings`. A user whose language has them is greeted in it; anyone else gets
//! the card's own greetings.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One language's greetings, as the card writes them.
#[derive(Debug, Deserialize, Default)]
pub struct Localized {
    #[serde(default)]
    first_mes: String,
    #[serde(default)]
    alternate_greetings: Vec<String>,
}

/// The greetings by language code — the first, then its alternates — each passed through
/// `expand`; or the field that is wrong and why.
pub fn greetings(
    lang: &BTreeMap<String, Localized>,
    expand: impl Fn(&str) -> String,
) -> Result<BTreeMap<String, Vec<String>>, (String, String)> {
    let mut out = BTreeMap::new();
    for (code, l) in lang {
        let field = |f: &str| format!("data.extensions.companion.lang.{code}{f}");
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err((field(""), "a two-letter language code, like ru".into()));
        }
        let first = expand(&l.first_mes);
        if first.is_empty() {
            return Err((field(".first_mes"), "must not be empty".into()));
        }
        let all = std::iter::once(first)
            .chain(l.alternate_greetings.iter().map(|g| expand(g)))
            .filter(|g| !g.is_empty())
            .collect();
        out.insert(code.clone(), all);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(json: &str) -> BTreeMap<String, Localized> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_language_gives_its_first_greeting_then_the_others() {
        let g = greetings(
            &lang(r#"{"ru":{"first_mes":" Привет, {{char}} ","alternate_greetings":["Йо",""]}}"#),
            |s| s.trim().replace("{{char}}", "Мира"),
        )
        .unwrap();
        assert_eq!(g["ru"], ["Привет, Мира", "Йо"]);
    }

    #[test]
    fn a_language_without_its_first_greeting_or_with_a_bad_code_is_named() {
        let e = greetings(&lang(r#"{"ru":{"alternate_greetings":["Йо"]}}"#), |s| {
            s.to_owned()
        })
        .unwrap_err();
        assert_eq!(e.0, "data.extensions.companion.lang.ru.first_mes");
        let e = greetings(&lang(r#"{"Russian":{"first_mes":"Йо"}}"#), |s| {
            s.to_owned()
        })
        .unwrap_err();
        assert_eq!(e.0, "data.extensions.companion.lang.Russian");
    }
}
