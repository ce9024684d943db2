//! Body and styling cues of a childlike look, read only in text that describes a picture:
//! terms that block there on their own ("flat-chested", "babyface", "плоская грудь") and
//! pairs that block only together, anywhere in the text and in either order ("braces" and
//! "pigtails", "гольфы" and "ранец"). Each cue alone is an adult's look ("petite", "braces",
//! "knee socks") and passes. Both lists live in `shared/companion/safety/*.json`.

use super::context::{adults_at_school, school};
use super::lexicon::{Lexicon, Pattern, any_at};
use super::normal::Token;
use super::signal::{Hit, Rule, hit};

/// Whether one of `ps` occurs in `ts`, not next to an adult at school ("knee socks, the
/// teacher at her classroom desk").
fn found(lx: &Lexicon, ps: &[Pattern], ts: &[Token]) -> bool {
    ps.iter()
        .any(|p| (0..ts.len()).any(|i| p.at(ts, i) && !(school(p) && adults_at_school(lx, ts, i))))
}

/// The first picture cue in `ts`.
pub fn cues(lx: &Lexicon, ts: &[Token]) -> Option<Hit> {
    for i in 0..ts.len() {
        if any_at(&lx.exceptions, ts, i).is_some() {
            continue;
        }
        if let Some(p) = any_at(&lx.picture_terms, ts, i)
            && !(school(p) && adults_at_school(lx, ts, i))
        {
            return hit(Rule::Picture, &p.spec);
        }
    }
    let pair = lx
        .picture_pairs
        .iter()
        .find(|(a, b)| found(lx, a, ts) && found(lx, b, ts))?;
    let spec = |ps: &[Pattern]| ps.first().map_or(String::new(), |p| p.spec.clone());
    hit(
        Rule::Picture,
        format!("{} + {}", spec(&pair.0), spec(&pair.1)),
    )
}
