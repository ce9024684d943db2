//! Words hidden by spacing or symbols, joined again: runs of three or more single letters
//! (`t e e n`, `t.e.e.n`, `f-o-u-r-t-e-e-n`) and pieces glued by symbols (`sch-ool-girl`).

use std::ops::Range;

use super::normal::{Token, token};

/// The runs of tokens to join, and whether each is spelled letter by letter.
fn runs(tokens: &[Token]) -> Vec<(Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let single = |t: &Token| t.text.chars().count() == 1 && t.num.is_none();
        let mut j = i + 1;
        if single(&tokens[i]) {
            // A run keeps one way of separating its letters: "a s-c-h-o-o-l" starts at "s".
            while j < tokens.len()
                && single(&tokens[j])
                && tokens[j].clause == tokens[i].clause
                && (j == i + 1 || tokens[j].glued == tokens[i + 1].glued)
            {
                j += 1;
            }
            if j - i < 3 {
                j = i + 1;
            }
        }
        let spelled = j > i + 1;
        if j == i + 1 {
            while j < tokens.len() && tokens[j].glued && tokens[j].num.is_none() {
                j += 1;
            }
        }
        if j - i >= 2 {
            out.push((i..j, spelled));
        }
        i = j;
    }
    out
}

fn join(tokens: &[Token]) -> Token {
    let text: String = tokens.iter().map(|t| t.text.as_str()).collect();
    token(text, (tokens[0].sentence, tokens[0].clause), false)
}

/// The joined words only (`spelled` is true for letters spelled one by one); the scan checks
/// them as terms.
pub fn joined(tokens: &[Token]) -> Vec<(Token, bool)> {
    runs(tokens)
        .into_iter()
        .map(|(r, spelled)| (join(&tokens[r]), spelled))
        .collect()
}

/// The whole text again with every run of letters spelled one by one joined into its word
/// ("I'm f o u r t e e n" → "i'm", "fourteen"), or `None` when there is no such run.
pub fn respelled(tokens: &[Token]) -> Option<Vec<Token>> {
    let spelled: Vec<Range<usize>> = runs(tokens)
        .into_iter()
        .filter_map(|(r, spelled)| spelled.then_some(r))
        .collect();
    let first = spelled.first()?.start;
    let mut out = tokens[..first].to_vec();
    let mut at = first;
    for r in spelled {
        out.extend_from_slice(&tokens[at..r.start]);
        out.push(join(&tokens[r.clone()]));
        at = r.end;
    }
    out.extend_from_slice(&tokens[at..]);
    Some(out)
}
