//! The term lists of the minor-safety scan, read from the per-language data files
//! (`shared/safety/{en,ru}.json`) once and kept as skeletons (see `normal::skeleton`), so a
//! term written in Cyrillic also matches its transliteration.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::normal::{Token, skeleton};

/// One word of a pattern: alternatives, each a skeleton and whether it matches as a prefix.
#[derive(Debug, Clone)]
pub struct Word(Vec<(String, bool)>);

impl Word {
    fn parse(spec: &str) -> Self {
        Word(
            spec.split('|')
                .map(|alt| match alt.strip_suffix('*') {
                    Some(stem) => (skeleton(stem), true),
                    None => (skeleton(alt), false),
                })
                .collect(),
        )
    }

    /// Whether skeleton `s` is this word.
    pub fn matches(&self, s: &str) -> bool {
        self.0.iter().any(|(w, prefix)| {
            if *prefix {
                s.starts_with(w.as_str())
            } else {
                s == w
            }
        })
    }
}

/// A sequence of words (a single term is a sequence of one).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As written in the data file.
    pub spec: String,
    words: Vec<Word>,
}

impl Pattern {
    fn parse(spec: &str) -> Self {
        let words = spec
            .split([' ', '-'])
            .filter(|w| !w.is_empty())
            .map(Word::parse)
            .collect();
        Pattern {
            spec: spec.to_owned(),
            words,
        }
    }

    /// Whether the pattern starts at `tokens[i]`, within one sentence.
    pub fn at(&self, tokens: &[Token], i: usize) -> bool {
        let Some(first) = tokens.get(i) else {
            return false;
        };
        self.words.iter().enumerate().all(|(k, w)| {
            tokens
                .get(i + k)
                .is_some_and(|t| t.sentence == first.sentence && w.matches(&t.skel))
        })
    }

    /// Whether a one-word pattern's stem (four letters or more) occurs anywhere in `skel`:
    /// for letters spelled out one by one, where word boundaries are lost.
    pub fn inside(&self, skel: &str) -> bool {
        matches!(self.words.as_slice(), [w] if w.0.iter().any(|(s, _)| s.len() >= 4 && skel.contains(s.as_str())))
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }
}

#[derive(Deserialize)]
struct File {
    strong: Vec<String>,
    strong_exceptions: Vec<String>,
    strong_phrases: Vec<String>,
    weak: Vec<String>,
    possessives: Vec<String>,
    negations: Vec<String>,
    memory: Vec<String>,
    duration_after: Vec<String>,
    year_units: Vec<String>,
    old_words: Vec<String>,
    age_subjects: Vec<String>,
    age_subject_blockers: Vec<String>,
    not_age_after: Vec<String>,
    grade_words: Vec<String>,
    aged_things: Vec<String>,
    duration_before: Vec<String>,
    ordinal_suffixes: Vec<String>,
    under_words: Vec<String>,
    teacher: Vec<String>,
    ordinals: HashMap<String, u32>,
    numbers: HashMap<String, u32>,
    tens: HashMap<String, u32>,
}

/// Every list, all languages merged.
pub struct Lexicon {
    /// Words that suggest a minor wherever they stand.
    pub strong: Vec<Pattern>,
    /// Words that start like a strong term but are harmless (`childhood`, `infantry`).
    pub exceptions: Vec<Pattern>,
    /// Phrases that suggest a minor (`little girl`, `в 9 классе` is a grade rule).
    pub phrases: Vec<Pattern>,
    /// Family words that suggest a minor unless owned or denied (`my kids`).
    pub weak: Vec<Pattern>,
    /// Owners, before a weak word.
    pub possessives: Vec<Pattern>,
    /// Denials, before a weak word.
    pub negations: Vec<Pattern>,
    /// An adult's memories ("when I was", "в детстве"): the rest of the sentence is the past.
    pub memory: Vec<Pattern>,
    /// After "N years": a duration, not an age.
    pub duration_after: Vec<Pattern>,
    /// `years`, `лет`, `yo`.
    pub year_units: Vec<Pattern>,
    /// `old` after a year unit.
    pub old_words: Vec<Pattern>,
    /// Words before a number that make it someone's age.
    pub age_subjects: Vec<Pattern>,
    /// Words right before a number that make it not an age (`it is 5`).
    pub age_subject_blockers: Vec<Pattern>,
    /// Units after a number that make it not an age.
    pub not_age_after: Vec<Pattern>,
    /// `grade`, `класс`.
    pub grade_words: Vec<Pattern>,
    /// Things with an age (`a 12-year-old whisky`).
    pub aged_things: Vec<Pattern>,
    /// Before "N лет": a duration, not an age (`женаты 10 лет`).
    pub duration_before: Vec<Pattern>,
    /// `th` of `7th`, `й` of `9-й`.
    pub ordinal_suffixes: Vec<Pattern>,
    /// `under 18`, `младше 18`: 18 counts too.
    pub under_words: Vec<Pattern>,
    /// Adults at school: teachers, parents, reunions.
    pub teacher: Vec<Pattern>,
    /// Ordinal stems (prefix match) and their values.
    pub ordinals: Vec<(String, u32)>,
    /// Number words (skeleton → value).
    pub numbers: HashMap<String, u32>,
    /// Tens words (skeleton → value).
    pub tens: HashMap<String, u32>,
}

const FILES: &[(&str, &str)] = &[
    ("en", include_str!("../../safety/en.json")),
    ("ru", include_str!("../../safety/ru.json")),
];

fn patterns(lists: &[Vec<String>]) -> Vec<Pattern> {
    let mut out: Vec<Pattern> = lists.iter().flatten().map(|s| Pattern::parse(s)).collect();
    // Longest first, so a longer exception or phrase wins.
    out.sort_by_key(|p| std::cmp::Reverse(p.len()));
    out
}

impl Lexicon {
    fn load() -> Self {
        let files: Vec<File> = FILES
            .iter()
            .map(|(lang, text)| {
                serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("shared/safety/{lang}.json is malformed: {e}"))
            })
            .collect();
        macro_rules! merged {
            ($field:ident) => {
                patterns(&files.iter().map(|f| f.$field.clone()).collect::<Vec<_>>())
            };
        }
        let map = |pick: fn(&File) -> &HashMap<String, u32>| -> HashMap<String, u32> {
            files
                .iter()
                .flat_map(|f| pick(f).iter().map(|(k, v)| (skeleton(k), *v)))
                .collect()
        };
        let mut ordinals: Vec<(String, u32)> = map(|f| &f.ordinals).into_iter().collect();
        ordinals.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        Lexicon {
            strong: merged!(strong),
            exceptions: merged!(strong_exceptions),
            phrases: merged!(strong_phrases),
            weak: merged!(weak),
            possessives: merged!(possessives),
            negations: merged!(negations),
            memory: merged!(memory),
            duration_after: merged!(duration_after),
            year_units: merged!(year_units),
            old_words: merged!(old_words),
            age_subjects: merged!(age_subjects),
            age_subject_blockers: merged!(age_subject_blockers),
            not_age_after: merged!(not_age_after),
            grade_words: merged!(grade_words),
            aged_things: merged!(aged_things),
            duration_before: merged!(duration_before),
            ordinal_suffixes: merged!(ordinal_suffixes),
            under_words: merged!(under_words),
            teacher: merged!(teacher),
            ordinals,
            numbers: map(|f| &f.numbers),
            tens: map(|f| &f.tens),
        }
    }
}

/// The lists, loaded on first use.
pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::load);

/// Whether any of `patterns` starts at `tokens[i]`; the first (longest) that does.
pub fn any_at<'a>(patterns: &'a [Pattern], tokens: &[Token], i: usize) -> Option<&'a Pattern> {
    patterns.iter().find(|p| p.at(tokens, i))
}

/// Whether any of `patterns` ends at `tokens[end]` (inclusive).
pub fn ends_at(patterns: &[Pattern], tokens: &[Token], end: usize) -> bool {
    patterns
        .iter()
        .any(|p| end + 1 >= p.len() && p.at(tokens, end + 1 - p.len()))
}
