//! The term lists of the minor-safety scan, read from the per-language data files
//! (`shared/companion/safety/{en,ru}.json`) once and kept as skeletons (see
//! `normal::skeleton`), so a term written in Cyrillic also matches its transliteration.
//!
//! Longer than 300 lines because the term kinds and their one loader read best together: each
//! list's shape is checked where it is parsed.

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

    /// Patterns separated by ` / ` (`knee socks / knee-high socks`).
    fn alternatives(specs: &str) -> Vec<Self> {
        specs.split(" / ").map(Pattern::parse).collect()
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
    roleplay: Vec<String>,
    owners: Vec<String>,
    first_person: Vec<String>,
    past: Vec<String>,
    aged_things: Vec<String>,
    duration_before: Vec<String>,
    ordinal_suffixes: Vec<String>,
    under_words: Vec<String>,
    teacher: Vec<String>,
    picture_terms: Vec<String>,
    picture_pairs: Vec<(String, String)>,
    ordinals: HashMap<String, u32>,
    numbers: HashMap<String, u32>,
    tens: HashMap<String, u32>,
}

/// Every list, all languages merged.
pub struct Lexicon {
    /// Words that suggest a minor wherever they stand.
    pub strong: Patterns,
    /// Words that start like a strong term but are harmless (`childhood`, `infantry`).
    pub exceptions: Patterns,
    /// Phrases that suggest a minor (`little girl`, `в 9 классе` is a grade rule).
    pub phrases: Patterns,
    /// Family words that suggest a minor unless owned or denied (`my kids`).
    pub weak: Patterns,
    /// Owners, before a weak word.
    pub possessives: Patterns,
    /// Denials, before a weak word.
    pub negations: Patterns,
    /// An adult's memories ("when I was", "в детстве"): the rest of the sentence is the past.
    pub memory: Patterns,
    /// After "N years": a duration, not an age.
    pub duration_after: Patterns,
    /// `years`, `лет`, `yo`.
    pub year_units: Patterns,
    /// `old` after a year unit.
    pub old_words: Patterns,
    /// Words before a number that make it someone's age.
    pub age_subjects: Patterns,
    /// Words right before a number that make it not an age (`it is 5`).
    pub age_subject_blockers: Patterns,
    /// Units after a number that make it not an age.
    pub not_age_after: Patterns,
    /// `grade`, `класс`.
    pub grade_words: Patterns,
    /// Words that make what follows a role to play (`be my niece`), not a mention.
    pub roleplay: Patterns,
    /// `have`, `has`: a family word up to five words after them is someone's.
    pub owners: Patterns,
    /// `I`, `we`, `мне`.
    pub first_person: Patterns,
    /// `was`, `было`: with a first person before a number, a memory (`I was 17 when…`).
    pub past: Patterns,
    /// Things with an age (`a 12-year-old whisky`).
    pub aged_things: Patterns,
    /// Before "N лет": a duration, not an age (`женаты 10 лет`).
    pub duration_before: Patterns,
    /// `th` of `7th`, `й` of `9-й`.
    pub ordinal_suffixes: Patterns,
    /// `under 18`, `младше 18`: 18 counts too.
    pub under_words: Patterns,
    /// Adults at school: teachers, parents, reunions.
    pub teacher: Patterns,
    /// Body and styling cues of a childlike look, for pictures only (`flat-chested`).
    pub picture_terms: Patterns,
    /// Cues that suggest a child only together, anywhere in a picture's text, in either order
    /// (`braces` and `pigtails`).
    pub picture_pairs: Vec<(Vec<Pattern>, Vec<Pattern>)>,
    /// Ordinal stems (prefix match) and their values.
    pub ordinals: Vec<(String, u32)>,
    /// Number words (skeleton → value).
    pub numbers: HashMap<String, u32>,
    /// Tens words (skeleton → value).
    pub tens: HashMap<String, u32>,
}

const FILES: &[(&str, &str)] = &[
    ("en", include_str!("../../../safety/en.json")),
    ("ru", include_str!("../../../safety/ru.json")),
];

/// A list of patterns, indexed by the first letter of their first word, so a word is only
/// compared with the patterns that can start with it.
pub struct Patterns {
    list: Vec<Pattern>,
    by_first: HashMap<char, Vec<usize>>,
    longest: usize,
}

impl Patterns {
    /// Every pattern.
    pub fn iter(&self) -> impl Iterator<Item = &Pattern> {
        self.list.iter()
    }

    fn starting(&self, word: &str) -> impl Iterator<Item = &Pattern> {
        let first = word.chars().next().unwrap_or(' ');
        let ids = self.by_first.get(&first).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|&k| &self.list[k])
    }
}

fn patterns(lists: &[Vec<String>]) -> Patterns {
    let mut list: Vec<Pattern> = lists.iter().flatten().map(|s| Pattern::parse(s)).collect();
    // Longest first, so a longer exception or phrase wins.
    list.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut by_first: HashMap<char, Vec<usize>> = HashMap::new();
    for (k, p) in list.iter().enumerate() {
        let firsts = p.words.first().into_iter().flat_map(|w| w.0.iter());
        for c in firsts.filter_map(|(s, _)| s.chars().next()) {
            let ids = by_first.entry(c).or_default();
            if ids.last() != Some(&k) {
                ids.push(k);
            }
        }
    }
    let longest = list.first().map_or(0, Pattern::len);
    Patterns {
        list,
        by_first,
        longest,
    }
}

impl Lexicon {
    fn load() -> Self {
        let files: Vec<File> = FILES
            .iter()
            .map(|(lang, text)| {
                serde_json::from_str(text).unwrap_or_else(|e| {
                    panic!("shared/companion/safety/{lang}.json is malformed: {e}")
                })
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
            roleplay: merged!(roleplay),
            owners: merged!(owners),
            first_person: merged!(first_person),
            past: merged!(past),
            aged_things: merged!(aged_things),
            duration_before: merged!(duration_before),
            ordinal_suffixes: merged!(ordinal_suffixes),
            under_words: merged!(under_words),
            teacher: merged!(teacher),
            picture_terms: merged!(picture_terms),
            picture_pairs: files
                .iter()
                .flat_map(|f| &f.picture_pairs)
                .map(|(a, b)| (Pattern::alternatives(a), Pattern::alternatives(b)))
                .collect(),
            ordinals,
            numbers: map(|f| &f.numbers),
            tens: map(|f| &f.tens),
        }
    }
}

/// The lists, loaded on first use.
pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(Lexicon::load);

/// Whether any of `patterns` starts at `tokens[i]`; the first (longest) that does.
pub fn any_at<'a>(patterns: &'a Patterns, tokens: &[Token], i: usize) -> Option<&'a Pattern> {
    let word = &tokens.get(i)?.skel;
    patterns.starting(word).find(|p| p.at(tokens, i))
}

/// Whether any of `patterns` ends at `tokens[end]` (inclusive).
pub fn ends_at(patterns: &Patterns, tokens: &[Token], end: usize) -> bool {
    (1..=patterns.longest.min(end + 1)).any(|len| {
        let start = end + 1 - len;
        patterns
            .starting(&tokens[start].skel)
            .any(|p| p.len() == len && p.at(tokens, start))
    })
}
