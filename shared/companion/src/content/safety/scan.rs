//! The minor-safety scan itself: terms and phrases, family words unless owned or denied (see
//! `context`), ages under 18 and school grades (see `ages`), words spelled out letter by
//! letter, numbers included ("f o u r t e e n"), and for pictures the body and styling cues of
//! a childlike look (see `picture`).

use super::ages::{age_or_grade, number_at, ordinal_grade};
use super::context::{adults_at_school, family, memories, school};
use super::lexicon::{LEXICON, Lexicon, any_at};
use super::normal::{Token, tokens};
use super::picture;
use super::signal::{Hit, Mode, Rule, hit};
use super::spelled::{joined, respelled};

/// The first signal among tokens `ts`, word by word.
fn words(lx: &Lexicon, ts: &[Token], mode: Mode) -> Option<Hit> {
    let past = if mode.memories {
        vec![false; ts.len()]
    } else {
        memories(lx, ts)
    };
    let mut skip_to = 0;
    for i in 0..ts.len() {
        if past[i] || i < skip_to {
            continue;
        }
        // The longer of an exception and a phrase starting here wins ("teeny bopper").
        let phrase = any_at(&lx.phrases, ts, i);
        match any_at(&lx.exceptions, ts, i) {
            Some(e) if phrase.is_none_or(|p| p.len() <= e.len()) => {
                skip_to = i + e.len();
                continue;
            }
            _ => {}
        }
        if let Some(p) = phrase
            && !(school(p) && adults_at_school(lx, ts, i))
        {
            return hit(Rule::Phrase, &p.spec);
        }
        if let Some(h) = family(lx, ts, i, mode) {
            return Some(h);
        }
        if any_at(&lx.weak, ts, i).is_some() {
            continue;
        }
        if let Some(p) = any_at(&lx.strong, ts, i)
            && !(school(p) && adults_at_school(lx, ts, i))
        {
            return hit(Rule::Term, &ts[i].text);
        }
        if let Some((n, end, adjective)) = number_at(lx, ts, i) {
            skip_to = end + 1;
            if adjective && n < 18 {
                return hit(Rule::Age, n.to_string());
            }
            if let Some(h) = age_or_grade(lx, ts, i, end, n, mode) {
                return Some(h);
            }
        }
        if let Some(h) = ordinal_grade(lx, ts, i) {
            return Some(h);
        }
    }
    None
}

/// Strong terms hidden by spacing or symbols ("s c h o o l g i r l", "sch-ool-girl").
fn spelled_terms(lx: &Lexicon, ts: &[Token]) -> Option<Hit> {
    joined(ts).iter().find_map(|(t, spelled)| {
        let one = std::slice::from_ref(t);
        let harmless = any_at(&lx.exceptions, one, 0).is_some();
        // A number spelled out ("f i f t e e n") is read as a number below, not as "teen".
        let number = number_at(lx, one, 0).is_some();
        let term = any_at(&lx.strong, one, 0).is_some()
            || (*spelled && !number && lx.strong.iter().any(|p| p.inside(&t.skel)));
        (!harmless && term).then(|| Hit {
            rule: Rule::Term,
            term: t.text.clone(),
        })
    })
}

/// The first signal in `text`, read in `mode`.
pub fn scan(text: &str, mode: Mode) -> Option<Hit> {
    let lx = &*LEXICON;
    let ts = tokens(text);
    words(lx, &ts, mode)
        .or_else(|| spelled_terms(lx, &ts))
        // Words spelled out letter by letter read again as words, so a number spelled out
        // ("I'm f o u r t e e n") is an age like any other.
        .or_else(|| respelled(&ts).and_then(|rs| words(lx, &rs, mode)))
        .or_else(|| mode.picture.then(|| picture::cues(lx, &ts)).flatten())
}
