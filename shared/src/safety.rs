//! Image-prompt safety: every picture is of an adult. Text that mentions minors — in English
//! or Russian, with common typos and digit-for-letter spellings, or an age under 18 — blocks
//! the image, and every negative prompt carries the same terms.

/// Appended to every negative prompt.
pub const NEGATIVE_TERMS: &str = "child, children, kid, minor, underage, teen, teenager, loli, childlike, young-looking, school uniform";

/// Words that block when a word starts with them.
const STEMS: &[&str] = &[
    "child",
    "underage",
    "preteen",
    "teen",
    "loli",
    "shota",
    "schoolgirl",
    "schoolboy",
    "toddler",
    "infant",
    "juvenile",
    "pubescent",
    "prepubescent",
    "jailbait",
    "chld",
    "undrage",
    "undera",
    "ребен",
    "ребён",
    "малолет",
    "несовершеннолет",
    "школьниц",
    "школьник",
    "подрост",
    "девочк",
    "мальчик",
    "лоли",
    "младен",
    "детск",
    "педо",
    "pedo",
];

/// Words that block only as whole words (their stems are ordinary words).
const WORDS: &[&str] = &[
    "kid",
    "kids",
    "kiddo",
    "kiddie",
    "minor",
    "minors",
    "дети",
    "детей",
    "детям",
    "детьми",
    "дитя",
];

/// Two-word phrases that block.
const PHRASES: &[(&str, &str)] = &[
    ("young", "girl"),
    ("little", "girl"),
    ("young", "boy"),
    ("little", "boy"),
];

/// Words that, after a number, make it an age.
const AGE_UNITS: &[&str] = &[
    "year",
    "years",
    "yr",
    "yrs",
    "yo",
    "y",
    "лет",
    "год",
    "года",
    "годиков",
];

fn normalise(text: &str) -> Vec<String> {
    let mapped: String = text
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' => 'a',
            '5' => 's',
            '7' => 't',
            '@' => 'a',
            '$' => 's',
            c => c,
        })
        .collect();
    mapped
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The first blocking term in `text`, if any.
pub fn minor_term(text: &str) -> Option<String> {
    let words = normalise(text);
    for (i, w) in words.iter().enumerate() {
        if STEMS.iter().any(|s| w.starts_with(s)) || WORDS.contains(&w.as_str()) {
            return Some(w.clone());
        }
        if let Some(next) = words.get(i + 1)
            && PHRASES.iter().any(|(a, b)| a == w && b == next)
        {
            return Some(format!("{w} {next}"));
        }
    }
    under_age(text)
}

/// Finds "12 years old", "12yo", "12 лет" and similar ages under 18, on the raw text (digits
/// are not letter-mapped here).
fn under_age(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse::<u32>() else {
            continue;
        };
        let suffix = &t[digits.len()..];
        let unit = if suffix.is_empty() {
            tokens.get(i + 1).copied().unwrap_or("")
        } else {
            suffix
        };
        if n < 18 && AGE_UNITS.contains(&unit) {
            return Some(format!("{n} {unit}"));
        }
    }
    None
}

/// A negative prompt with the safety terms appended.
pub fn negative_prompt(extra: &str) -> String {
    let extra = extra.trim().trim_end_matches(',');
    if extra.is_empty() {
        NEGATIVE_TERMS.to_owned()
    } else {
        format!("{extra}, {NEGATIVE_TERMS}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minors_are_caught_in_many_spellings() {
        for t in [
            "a photo of a child",
            "Show me as a TEENAGER",
            "l0li style",
            "she is 15 years old",
            "12yo",
            "школьница в классе",
            "ей 14 лет",
            "a little girl",
            "undrage",
            "дети играют",
        ] {
            assert!(minor_term(t).is_some(), "{t}");
        }
    }

    #[test]
    fn ordinary_adult_talk_passes() {
        for t in [
            "you're kidding me",
            "a photo at the beach at sunset",
            "I'm 25 years old",
            "hey baby",
            "детектив в кафе",
            "the minority report is a film? no: minority",
            "she was 30 yo",
        ] {
            assert!(minor_term(t).is_none(), "{t}: {:?}", minor_term(t));
        }
    }

    #[test]
    fn negative_prompt_always_carries_the_terms() {
        assert!(negative_prompt("").contains("underage"));
        assert!(negative_prompt("glasses,").starts_with("glasses, child"));
    }
}
