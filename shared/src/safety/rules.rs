//! The minor-safety scan itself: terms and phrases, family words unless owned or denied, ages
//! under 18 written in digits or words (English and Russian, compounds such as
//! "пятнадцатилетняя" included) where the context makes them someone's age, school grades and
//! stages, and the contexts that make a mention harmless: an adult's memories ("when I was
//! little"), durations ("5 years ago"), adults at school (teachers, parents, reunions).

use super::lexicon::{LEXICON, Lexicon, Pattern, Patterns, any_at, ends_at};
use super::normal::{Token, joined, tokens};

/// What kind of signal was found (logged, never the user's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A term that means a minor.
    Term,
    /// A phrase that means a minor, or a school stage.
    Phrase,
    /// A family word not owned or denied.
    Family,
    /// An age under 18.
    Age,
    /// A school grade.
    Grade,
}

impl Rule {
    /// For logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Term => "term",
            Rule::Phrase => "phrase",
            Rule::Family => "family",
            Rule::Age => "age",
            Rule::Grade => "grade",
        }
    }
}

/// A signal that the text steers toward a minor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Which rule.
    pub rule: Rule,
    /// The term or number that matched (normalised).
    pub term: String,
}

fn hit(rule: Rule, term: impl Into<String>) -> Option<Hit> {
    Some(Hit {
        rule,
        term: term.into(),
    })
}

/// Tokens in a sentence that follows an adult's memory opener ("when I was", "в детстве").
fn memories(lx: &Lexicon, ts: &[Token]) -> Vec<bool> {
    let mut mask = vec![false; ts.len()];
    for i in 0..ts.len() {
        if any_at(&lx.memory, ts, i).is_some() {
            for (j, m) in mask.iter_mut().enumerate().skip(i) {
                if ts[j].sentence != ts[i].sentence {
                    break;
                }
                *m = true;
            }
        }
    }
    mask
}

fn school(p: &Pattern) -> bool {
    ["school", "школ", "класс", "grade", "garten", "сад"]
        .iter()
        .any(|k| p.spec.contains(k))
}

/// Whether a family word owned by someone stands within four words before `i` ("my son is
/// 12"): the number is that child's age, mentioned, not asked for.
fn owned_family_before(lx: &Lexicon, ts: &[Token], i: usize) -> bool {
    (i.saturating_sub(4)..i).any(|j| {
        any_at(&lx.weak, ts, j).is_some()
            && (1..=2).any(|d| j >= d && ends_at(&lx.possessives, ts, j - d))
            && !role_before(lx, ts, j)
    })
}

/// Whether a roleplay word ("be", "pretend", "будь") stands within three words before `i`:
/// "be my niece" is a role to play, not someone's niece.
fn role_before(lx: &Lexicon, ts: &[Token], i: usize) -> bool {
    (1..=3)
        .any(|d| i >= d && ts[i - d].sentence == ts[i].sentence && ends_at(&lx.roleplay, ts, i - d))
}

/// Whether a teacher, parent or reunion word is within three words of `i`.
fn adults_at_school(lx: &Lexicon, ts: &[Token], i: usize) -> bool {
    (i.saturating_sub(3)..(i + 4).min(ts.len())).any(|j| any_at(&lx.teacher, ts, j).is_some())
}

/// A number written in digits or words at `i`: its value, the index of its last token, and
/// whether it is itself an age adjective ("пятнадцатилетняя").
fn number_at(lx: &Lexicon, ts: &[Token], i: usize) -> Option<(u32, usize, bool)> {
    let t = &ts[i];
    if let Some(n) = t.num {
        return Some((n, i, false));
    }
    if let Some(tens) = lx.tens.get(&t.skel) {
        let unit = ts
            .get(i + 1)
            .filter(|u| u.sentence == t.sentence)
            .and_then(|u| lx.numbers.get(&u.skel).filter(|v| **v < 10));
        return Some(match unit {
            Some(u) => (tens + u, i + 1, false),
            None => (*tens, i, false),
        });
    }
    if let Some(n) = lx.numbers.get(&t.skel) {
        return Some((*n, i, false));
    }
    compound_age(lx, &t.skel).map(|n| (n, i, true))
}

/// "пятнадцатилетняя" → 15, "двадцатипятилетний" → 25.
fn compound_age(lx: &Lexicon, skel: &str) -> Option<u32> {
    let at = skel.find("let")?;
    let (num, rest) = (&skel[..at], &skel[at + 3..]);
    if num.is_empty() || !(rest.starts_with('n') || rest.starts_with('k')) {
        return None;
    }
    lx.numbers.get(num).copied().or_else(|| {
        lx.tens.iter().find_map(|(k, v)| {
            let units = num.strip_prefix(k.as_str())?;
            lx.numbers.get(units).filter(|u| **u < 10).map(|u| v + u)
        })
    })
}

/// Whether the number `n` spanning `i..=end` is someone's age under 18 (or a school grade).
fn age_or_grade(
    lx: &Lexicon,
    ts: &[Token],
    i: usize,
    end: usize,
    n: u32,
    strict: bool,
) -> Option<Hit> {
    let same = |j: usize| ts.get(j).filter(|t| t.sentence == ts[i].sentence);
    let mut next = end + 1;
    if same(next).is_some_and(|t| t.glued) && any_at(&lx.ordinal_suffixes, ts, next).is_some() {
        next += 1;
    }
    let before = |k: usize, list: &Patterns| (1..=k).any(|d| i >= d && ends_at(list, ts, i - d));
    let under = before(2, &lx.under_words);
    if n >= 18 && !(n == 18 && under) {
        return None;
    }
    // Someone's child ("my son is 12", "мой сын в 5 классе"), or the speaker's past ("I was 17
    // when we met", "мне было 15"): mentioned, not asked for.
    let past = before(2, &lx.past) && before(3, &lx.first_person);
    if !strict && (owned_family_before(lx, ts, i) || past) {
        return None;
    }
    if n <= 12 && same(next).is_some() && any_at(&lx.grade_words, ts, next).is_some() {
        return (!adults_at_school(lx, ts, i)).then(|| Hit {
            rule: Rule::Grade,
            term: format!("{n} {}", ts[next].text),
        });
    }
    if n <= 12 && before(1, &lx.grade_words) && !adults_at_school(lx, ts, i) {
        return hit(Rule::Grade, format!("{} {n}", ts[i - 1].text));
    }
    if n == 0 {
        return None;
    }
    let subject = (before(3, &lx.age_subjects) || under) && !before(1, &lx.age_subject_blockers);
    let age = hit(Rule::Age, n.to_string());
    if let Some(unit) = same(next).filter(|_| any_at(&lx.year_units, ts, next).is_some()) {
        let after = next + 1;
        if unit.skel.starts_with("letn") || unit.skel.starts_with("letk") || unit.skel == "io" {
            return age;
        }
        if same(after).is_some() && any_at(&lx.old_words, ts, after).is_some() {
            // "a 12-year-old whisky"; in a mention, "a 14-year-old son".
            let of = |list: &Patterns| {
                same(after + 1).is_some() && any_at(list, ts, after + 1).is_some()
            };
            let mentioned = of(&lx.aged_things) || (!strict && of(&lx.weak));
            return if mentioned { None } else { age };
        }
        if same(after).is_some() && any_at(&lx.duration_after, ts, after).is_some() {
            return None;
        }
        // Russian "N лет" is an age unless a duration word stands before it.
        let russian =
            ["let", "god", "goda", "godik", "godika", "godikov"].contains(&unit.skel.as_str());
        if russian && !before(3, &lx.duration_before) {
            return age;
        }
        return if subject { age } else { None };
    }
    if same(next).is_some() && any_at(&lx.not_age_after, ts, next).is_some() {
        return None;
    }
    if subject { age } else { None }
}

/// Ordinal words before a grade word ("seventh grade", "в девятом классе").
fn ordinal_grade(lx: &Lexicon, ts: &[Token], i: usize) -> Option<Hit> {
    let word = &ts[i].skel;
    // "семиклассница": the grade in one word ("одноклассница" is a classmate).
    if word.contains("klassni") && !word.starts_with("odno") && !adults_at_school(lx, ts, i) {
        return hit(Rule::Grade, ts[i].text.clone());
    }
    let word = &ts[i].skel;
    let (_, n) = lx
        .ordinals
        .iter()
        .find(|(k, _)| word.starts_with(k.as_str()))?;
    let next = ts.get(i + 1).filter(|t| t.sentence == ts[i].sentence)?;
    let grade = any_at(&lx.grade_words, ts, i + 1).is_some() || next.skel.starts_with("grader");
    (grade && !adults_at_school(lx, ts, i)).then(|| Hit {
        rule: Rule::Grade,
        term: format!("{n} {}", next.text),
    })
}

fn family(lx: &Lexicon, ts: &[Token], i: usize, strict: bool) -> Option<Hit> {
    let p = any_at(&lx.weak, ts, i)?;
    if strict {
        return hit(Rule::Family, &p.spec);
    }
    let near = |list: &Patterns| {
        (1..=2).any(|d| i >= d && ends_at(list, ts, i - d))
            || ts
                .get(i + 1)
                .is_some_and(|t| t.sentence == ts[i].sentence && any_at(list, ts, i + 1).is_some())
    };
    let had = (1..=5)
        .any(|d| i >= d && ts[i - d].sentence == ts[i].sentence && ends_at(&lx.owners, ts, i - d));
    let mention =
        had || near(&lx.possessives) || near(&lx.negations) || adults_at_school(lx, ts, i);
    if mention && !role_before(lx, ts, i) {
        return None;
    }
    hit(Rule::Family, &p.spec)
}

/// The first signal in `text`. `strict` is for text that describes a picture (the scene, the
/// final prompt): there, family words count even when owned.
pub fn scan(text: &str, strict: bool) -> Option<Hit> {
    let lx = &*LEXICON;
    let ts = tokens(text);
    let past = if strict {
        vec![false; ts.len()]
    } else {
        memories(lx, &ts)
    };
    let mut skip_to = 0;
    for i in 0..ts.len() {
        if past[i] || i < skip_to {
            continue;
        }
        // The longer of an exception and a phrase starting here wins ("teeny bopper").
        let phrase = any_at(&lx.phrases, &ts, i);
        match any_at(&lx.exceptions, &ts, i) {
            Some(e) if phrase.is_none_or(|p| p.len() <= e.len()) => {
                skip_to = i + e.len();
                continue;
            }
            _ => {}
        }
        if let Some(p) = phrase
            && !(school(p) && adults_at_school(lx, &ts, i))
        {
            return hit(Rule::Phrase, &p.spec);
        }
        if let Some(h) = family(lx, &ts, i, strict) {
            return Some(h);
        }
        if any_at(&lx.weak, &ts, i).is_some() {
            continue;
        }
        if let Some(p) = any_at(&lx.strong, &ts, i)
            && !(school(p) && adults_at_school(lx, &ts, i))
        {
            return hit(Rule::Term, &ts[i].text);
        }
        if let Some((n, end, adjective)) = number_at(lx, &ts, i) {
            skip_to = end + 1;
            if adjective && n < 18 {
                return hit(Rule::Age, n.to_string());
            }
            if let Some(h) = age_or_grade(lx, &ts, i, end, n, strict) {
                return Some(h);
            }
        }
        if let Some(h) = ordinal_grade(lx, &ts, i) {
            return Some(h);
        }
    }
    joined(&ts).iter().find_map(|(t, spelled)| {
        let one = std::slice::from_ref(t);
        let harmless = any_at(&lx.exceptions, one, 0).is_some();
        let term = any_at(&lx.strong, one, 0).is_some()
            || (*spelled && lx.strong.iter().any(|p| p.inside(&t.skel)));
        (!harmless && term).then(|| Hit {
            rule: Rule::Term,
            term: t.text.clone(),
        })
    })
}
