//! The contexts that make a mention harmless, or not: an adult's memories ("when I was
//! little"), family words owned or denied ("my kids", "no kids"), roles to play ("be my
//! niece"), and adults at school (teachers, parents, reunions).

use super::lexicon::{Lexicon, Pattern, Patterns, any_at, ends_at};
use super::normal::Token;
use super::signal::{Hit, Mode, Rule, hit};

/// Tokens in a sentence that follows an adult's memory opener ("when I was", "в детстве").
pub fn memories(lx: &Lexicon, ts: &[Token]) -> Vec<bool> {
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

pub fn school(p: &Pattern) -> bool {
    [
        "school",
        "школ",
        "класс",
        "class",
        "grade",
        "garten",
        "сад",
        "nursery",
        "reception",
        "year",
        "pre k",
        "prek",
        "kindy",
        "групп",
        "ясл",
    ]
    .iter()
    .any(|k| p.spec.contains(k))
}

/// Whether a family word owned by someone stands within four words before `i` ("my son is
/// 12"): the number is that child's age, mentioned, not asked for.
pub fn owned_family_before(lx: &Lexicon, ts: &[Token], i: usize) -> bool {
    (i.saturating_sub(4)..i).any(|j| {
        any_at(&lx.weak, ts, j).is_some()
            && (1..=2).any(|d| j >= d && ends_at(&lx.possessives, ts, j - d))
            && !role_before(lx, ts, j)
    })
}

/// Whether a roleplay word ("be", "pretend", "будь") stands within three words before `i`:
/// "be my niece" is a role to play, not someone's niece.
pub fn role_before(lx: &Lexicon, ts: &[Token], i: usize) -> bool {
    (1..=3)
        .any(|d| i >= d && ts[i - d].sentence == ts[i].sentence && ends_at(&lx.roleplay, ts, i - d))
}

/// Whether a teacher, parent or reunion word is within three words of `i`.
pub fn adults_at_school(lx: &Lexicon, ts: &[Token], i: usize) -> bool {
    (i.saturating_sub(3)..(i + 4).min(ts.len())).any(|j| any_at(&lx.teacher, ts, j).is_some())
}

/// A family word at `i` that is not owned or denied (in `mode.owned`, any), or is a role to
/// play ("be my daughter", "будь моей доченькой"): `Rule::Role`, refused in any chat.
pub fn family(lx: &Lexicon, ts: &[Token], i: usize, mode: Mode) -> Option<Hit> {
    let p = any_at(&lx.weak, ts, i)?;
    // "be my daughter", "be a daughter", "буду твоей доченькой": the role word right before,
    // or with an owner or article between.
    let same = |j: usize| ts[j].sentence == ts[i].sentence;
    let role = (i >= 1 && same(i - 1) && ends_at(&lx.roleplay, ts, i - 1))
        || (i >= 2
            && same(i - 2)
            && ends_at(&lx.roleplay, ts, i - 2)
            && (ends_at(&lx.possessives, ts, i - 1)
                || ["a", "an", "the"].contains(&ts[i - 1].skel.as_str())));
    if role {
        return hit(Rule::Role, &p.spec);
    }
    if mode.owned {
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
