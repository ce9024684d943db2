//! Numbers as ages and grades: an age under 18 in digits or words (English and Russian,
//! compounds such as "пятнадцатилетняя" included) where the context makes it someone's age,
//! school grades by number or ordinal, and the contexts that make a number something else
//! (durations, times, prices, a 12-year-old whisky).

use super::context::{adults_at_school, owned_family_before};
use super::lexicon::{Lexicon, Patterns, any_at, ends_at};
use super::normal::Token;
use super::signal::{Hit, Mode, Rule, hit};

/// A number written in digits or words at `i`: its value, the index of its last token, and
/// whether it is itself an age adjective ("пятнадцатилетняя").
pub fn number_at(lx: &Lexicon, ts: &[Token], i: usize) -> Option<(u32, usize, bool)> {
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
pub fn age_or_grade(
    lx: &Lexicon,
    ts: &[Token],
    i: usize,
    end: usize,
    n: u32,
    mode: Mode,
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
    if (!mode.owned_ages && owned_family_before(lx, ts, i)) || (!mode.memories && past) {
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
    // Where memories count, "I was 15" is an age like "I'm 15".
    let subject = (before(3, &lx.age_subjects) || under || (past && mode.memories))
        && !before(1, &lx.age_subject_blockers);
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
            let mentioned = of(&lx.aged_things) || (!mode.owned_ages && of(&lx.weak));
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
pub fn ordinal_grade(lx: &Lexicon, ts: &[Token], i: usize) -> Option<Hit> {
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
