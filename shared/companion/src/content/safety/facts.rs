//! The screen of a remembered fact, stricter than any chat scan: a fact is a standalone
//! statement about a real person that outlives the dialog it was learned in, so no context
//! excuses a minor in it. Besides the scan read with memories and owned children counting
//! (`Mode::FACT`), a fact is dropped for an age under 18 in any tense ("was 15 when", "had sex
//! at 14", "when they were 13"), a future birthday that makes someone under 18 now ("will turn
//! 18 in three years"), a birth year less than 18 years back ("born in 2011", "родился в 2011
//! году"), and a statement of being under age or at school ("is not yet an adult", "is still
//! at school", "учится в школе").

use super::ages::number_at;
use super::lexicon::{LEXICON, Lexicon, any_at};
use super::normal::{Token, tokens};
use super::scan::scan;
use super::signal::{Hit, Mode, Rule, hit};

/// Words before a number that make it someone's age, in any tense.
const AGE_CONTEXT: &[&str] = &[
    "was",
    "were",
    "is",
    "are",
    "be",
    "being",
    "at",
    "age",
    "aged",
    "ages",
    "turned",
    "turn",
    "turns",
    "turning",
    "when",
    "until",
    "till",
    "by",
    "before",
    "under",
    "since",
    "old",
    "было",
    "был",
    "была",
    "были",
    "в",
    "с",
    "до",
    "исполнилось",
    "исполнится",
    "исполняется",
    "возрасте",
    "возраста",
    "когда",
    "лет",
    "уже",
    "ей",
    "ему",
    "мне",
    "пользователю",
];

/// Words before a number that announce a birthday to come.
const TURN_WORDS: &[&str] = &["turn", "turns", "turning", "исполнится", "исполняется"];

/// Words that mark a birth (a prefix each).
const BIRTH: &[&str] = &["born", "birth", "родил", "рожд", "рожден"];

/// Words left out when phrases are matched ("not yet an adult" is "not adult").
const FILLERS: &[&str] = &[
    "a",
    "an",
    "the",
    "yet",
    "still",
    "even",
    "just",
    "only",
    "currently",
    "ещё",
    "еще",
    "пока",
    "всё",
    "все",
    "уже",
    "даже",
    "только",
];

/// Being under age or at school, each word a prefix of a word in a row (fillers skipped).
const STAGES: &[&[&str]] = &[
    &["not", "adult"],
    &["not", "grown"],
    &["not", "of", "age"],
    &["not", "legal"],
    &["not", "old", "enough"],
    &["too", "young"],
    &["under", "age"],
    &["underage"],
    &["at", "school"],
    &["in", "school"],
    &["to", "school"],
    &["attend", "school"],
    &["high", "school"],
    &["middle", "school"],
    &["primary", "school"],
    &["elementary", "school"],
    &["secondary", "school"],
    &["grammar", "school"],
    &["junior", "high"],
    &["school", "student"],
    &["school", "pupil"],
    &["pupil"],
    &["не", "взросл"],
    &["не", "совершеннолет"],
    &["несовершеннолет"],
    &["в", "школ"],
    &["школьн"],
    &["старшекласс"],
    &["ученик"],
    &["ученица"],
    &["ученицей"],
];

/// Whether a remembered fact must not be kept or shown, and why.
pub fn fact_refusal(fact: &str) -> Option<Hit> {
    let lx = &*LEXICON;
    if let Some(h) = scan(fact, Mode::FACT) {
        return Some(h);
    }
    let ts = tokens(fact);
    ages(lx, &ts)
        .or_else(|| birth_year(&ts, this_year()))
        .or_else(|| stages(&ts))
}

/// Whether `ts[j]` is in sentence `s`.
fn in_sentence(ts: &[Token], j: usize, s: usize) -> bool {
    ts.get(j).is_some_and(|t| t.sentence == s)
}

/// Whether one of `words` is among the three words before `i` in its sentence.
fn before(ts: &[Token], i: usize, words: &[&str]) -> bool {
    (1..=3).any(|d| {
        i >= d && ts[i - d].sentence == ts[i].sentence && words.contains(&ts[i - d].text.as_str())
    })
}

/// An age under 18 in any tense, or a birthday to come that leaves someone under 18 now.
fn ages(lx: &Lexicon, ts: &[Token]) -> Option<Hit> {
    let mut i = 0;
    while i < ts.len() {
        let Some((n, end, _)) = number_at(lx, ts, i) else {
            i += 1;
            continue;
        };
        let s = ts[i].sentence;
        let next = end + 1;
        let unit = in_sentence(ts, next, s) && any_at(&lx.year_units, ts, next).is_some();
        // "turn 18 in three years", "исполнится 18 через три года": under 18 now.
        if before(ts, i, TURN_WORDS) {
            let wait = in_sentence(ts, next, s)
                .then(|| ["in", "через"].contains(&ts[next].text.as_str()))
                .filter(|in_| *in_)
                .and_then(|_| in_sentence(ts, next + 1, s).then_some(()))
                .and_then(|()| number_at(lx, ts, next + 1));
            if n <= 18 || wait.is_some_and(|(m, _, _)| n < 18 + m) {
                return hit(Rule::Age, n.to_string());
            }
            // The wait itself ("in two years") is no age.
            if let Some((_, wait_end, _)) = wait {
                i = wait_end + 1;
                continue;
            }
        }
        if (1..18).contains(&n) {
            let not_age = in_sentence(ts, next, s) && any_at(&lx.not_age_after, ts, next).is_some();
            let duration = unit
                && ((in_sentence(ts, next + 1, s)
                    && any_at(&lx.duration_after, ts, next + 1).is_some())
                    || before(ts, i, &["in", "через"])
                    || (1..=3).any(|d| {
                        i >= d
                            && ts[i - d].sentence == s
                            && any_at(&lx.duration_before, ts, i - d).is_some()
                    }));
            if !not_age && !duration && (unit || before(ts, i, AGE_CONTEXT)) {
                return hit(Rule::Age, n.to_string());
            }
        }
        i = end + 1;
    }
    None
}

/// A birth year less than 18 years before `year`.
fn birth_year(ts: &[Token], year: u32) -> Option<Hit> {
    let born = |s: usize| {
        ts.iter()
            .any(|t| t.sentence == s && BIRTH.iter().any(|b| t.text.starts_with(b)))
    };
    ts.iter()
        .filter_map(|t| t.num.filter(|n| (1900..=2200).contains(n)).map(|n| (n, t)))
        .find(|(n, t)| n + 18 >= year && born(t.sentence))
        .map(|(n, _)| Hit {
            rule: Rule::Age,
            term: n.to_string(),
        })
}

/// The current year (UTC; a day off at New Year only makes the screen stricter by a year).
fn this_year() -> u32 {
    use chrono::Datelike;
    u32::try_from(chrono::Utc::now().year()).unwrap_or(2100)
}

/// A statement of being under age or at school.
fn stages(ts: &[Token]) -> Option<Hit> {
    let words: Vec<&Token> = ts
        .iter()
        .filter(|t| !FILLERS.contains(&t.text.as_str()))
        .collect();
    for i in 0..words.len() {
        for stage in STAGES {
            let matched = stage.iter().enumerate().all(|(k, w)| {
                words
                    .get(i + k)
                    .is_some_and(|t| t.sentence == words[i].sentence && t.text.starts_with(w))
            });
            if matched {
                return hit(Rule::Phrase, stage.join(" "));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minor_in_any_tense_or_phrasing_is_refused() {
        for fact in [
            "The user was 15 when they first had sex.",
            "The user had sex at 15.",
            "The user had their first sexual experience at 14.",
            "The user lost their virginity when they were 13.",
            "The user was born in 2011.",
            "Пользователь родился в 2011 году.",
            "The user will turn 18 in three years.",
            "The user turns 18 next month.",
            "The user is not yet an adult.",
            "The user is not an adult yet.",
            "The user is still at school.",
            "The user is 15.",
            "The user is fifteen.",
            "The user is in ninth grade.",
            "The user is in year 10.",
            "The user is a schoolgirl.",
            "Пользователю 15 лет.",
            "Пользователю было 15, когда у него был первый секс.",
            "Пользователь впервые занялся сексом в 14.",
            "Пользователь ещё не взрослый.",
            "Пользователь несовершеннолетний.",
            "Пользователь ещё учится в школе.",
            "Пользователю исполнится 18 через три года.",
            "The user's son is 7 years old.",
            "Her son is 7.",
            "The user has a 14-year-old son.",
            "The user was fourteen when she met him.",
        ] {
            assert!(fact_refusal(fact).is_some(), "must be refused: {fact}");
        }
    }

    #[test]
    fn adult_facts_are_kept() {
        for fact in [
            "The user works as a nurse in Oslo.",
            "The user has a dog called Rex.",
            "The user has two cats.",
            "The user has a daughter named Anna.",
            "The user moved to Oslo 5 years ago.",
            "The user has been married for 5 years.",
            "The user runs 10 km every morning.",
            "The user was born in 1990.",
            "The user turned 30 last week.",
            "The user will turn 40 in two years.",
            "The user is 32 years old.",
            "Пользователь живёт в Москве.",
            "Пользователь родился в 1988 году.",
            "Пользователя зовут Катя.",
        ] {
            assert_eq!(fact_refusal(fact), None, "must be kept: {fact}");
        }
    }

    #[test]
    fn a_birth_year_counts_from_the_year_given() {
        let ts = tokens("The user was born in 2007.");
        assert!(birth_year(&ts, 2025).is_some());
        assert!(birth_year(&ts, 2026).is_none());
        assert!(birth_year(&tokens("The user bought a car in 2020."), 2025).is_none());
    }
}
