//! How undressed the moment is, read from the dialog in English and Russian: none,
//! undressing, partial (underwear, topless) or full. The newest message with a cue decides,
//! and within it the last cue; a cue that is denied ("I'm not naked", "не раздевайся") or
//! told in the past ("yesterday I was naked", "вчера была голой") does not count, and getting
//! dressed again brings the level back to none.

use serde::{Deserialize, Serialize};

/// Nudity level of a picture, ordered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Dressed.
    #[default]
    None,
    /// Taking clothes off.
    Undressing,
    /// Underwear, topless, a towel.
    Partial,
    /// Nothing on.
    Full,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::None, Level::Undressing, Level::Partial, Level::Full];

    /// As stored and written in cards (`none`, `undressing`, `partial`, `full`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Undressing => "undressing",
            Level::Partial => "partial",
            Level::Full => "full",
        }
    }

    /// Parses [`Level::as_str`].
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }
}

/// A cue: words (a trailing `*` matches as a prefix) and the level it means; `None` for
/// getting dressed.
const CUES: &[(&str, Level)] = &[
    // English: full
    ("not wearing anything", Level::Full),
    ("nothing on", Level::Full),
    ("wearing nothing", Level::Full),
    ("fully undressed", Level::Full),
    ("completely undressed", Level::Full),
    ("naked", Level::Full),
    ("nude*", Level::Full),
    ("birthday suit", Level::Full),
    // English: partial
    ("half naked", Level::Partial),
    ("half-naked", Level::Partial),
    ("topless", Level::Partial),
    ("braless", Level::Partial),
    ("underwear", Level::Partial),
    ("lingerie", Level::Partial),
    ("bra", Level::Partial),
    ("panties", Level::Partial),
    ("thong", Level::Partial),
    ("just a towel", Level::Partial),
    ("only a towel", Level::Partial),
    ("in a towel", Level::Partial),
    ("only a shirt", Level::Partial),
    // English: undressing
    ("undress*", Level::Undressing),
    ("strip*", Level::Undressing),
    ("take off", Level::Undressing),
    ("taking off", Level::Undressing),
    ("took off", Level::Undressing),
    ("takes off", Level::Undressing),
    ("unbutton*", Level::Undressing),
    ("unzip*", Level::Undressing),
    ("slip* off", Level::Undressing),
    ("slip* out of", Level::Undressing),
    ("pull* off", Level::Undressing),
    // English: dressed again
    ("get dressed", Level::None),
    ("got dressed", Level::None),
    ("getting dressed", Level::None),
    ("dressed again", Level::None),
    ("put on my", Level::None),
    ("put my clothes", Level::None),
    // Russian: full
    ("ничего не надето", Level::Full),
    ("без одежды", Level::Full),
    ("в чём мать родила", Level::Full),
    ("в чем мать родила", Level::Full),
    ("полностью раздет*", Level::Full),
    ("совсем раздет*", Level::Full),
    ("голая", Level::Full),
    ("голой", Level::Full),
    ("голую", Level::Full),
    ("голенька*", Level::Full),
    ("голеньк*", Level::Full),
    ("обнажён*", Level::Full),
    ("обнажен*", Level::Full),
    ("нагая", Level::Full),
    ("нагишом", Level::Full),
    // Russian: partial
    ("полуголая", Level::Partial),
    ("полуобнаж*", Level::Partial),
    ("топлес", Level::Partial),
    ("нижнем бель*", Level::Partial),
    ("нижнее бель*", Level::Partial),
    ("в белье", Level::Partial),
    ("бельё", Level::Partial),
    ("трусик*", Level::Partial),
    ("лифчик*", Level::Partial),
    ("бюстгальтер*", Level::Partial),
    ("в полотенце", Level::Partial),
    ("в одном полотенце", Level::Partial),
    // Russian: undressing
    ("раздева*", Level::Undressing),
    ("раздеваю*", Level::Undressing),
    ("разденусь", Level::Undressing),
    ("разденься", Level::Undressing),
    ("раздевайся", Level::Undressing),
    ("сниму*", Level::Undressing),
    ("снимаю*", Level::Undressing),
    ("снимает*", Level::Undressing),
    ("сними*", Level::Undressing),
    ("расстегива*", Level::Undressing),
    ("расстёгива*", Level::Undressing),
    ("расстегну*", Level::Undressing),
    ("стягива*", Level::Undressing),
    // Russian: dressed again
    ("оделась", Level::None),
    ("оделся", Level::None),
    ("оденусь", Level::None),
    ("одеваюсь", Level::None),
    ("одевайся", Level::None),
    ("оденься", Level::None),
];

/// Words that deny a cue a few words after them.
const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "don't",
    "dont",
    "won't",
    "wont",
    "isn't",
    "aren't",
    "wasn't",
    "didn't",
    "without",
    "не",
    "нет",
    "ни",
    "никогда",
    "нельзя",
];

/// Words that put a sentence in the past.
const PAST: &[&str] = &[
    "yesterday",
    "ago",
    "last",
    "once",
    "used",
    "earlier",
    "before",
    "вчера",
    "тогда",
    "раньше",
    "когда-то",
    "прошлой",
    "прошлый",
    "прошлом",
    "позавчера",
    "давно",
];

fn words(sentence: &str) -> Vec<String> {
    sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(|w| w.replace('ё', "е"))
        .collect()
}

fn word_matches(pattern: &str, word: &str) -> bool {
    let pattern = pattern.replace('ё', "е");
    match pattern.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => word == pattern,
    }
}

/// Cues of one sentence with their word positions, negated and past ones left out.
fn sentence_cues(sentence: &str, out: &mut Vec<Level>) {
    let ws = words(sentence);
    if ws.iter().any(|w| PAST.contains(&w.as_str())) {
        return;
    }
    let mut i = 0;
    while i < ws.len() {
        let found = CUES.iter().find(|(cue, _)| {
            let parts: Vec<&str> = cue.split(' ').collect();
            parts.len() <= ws.len() - i
                && parts.iter().zip(&ws[i..]).all(|(p, w)| word_matches(p, w))
        });
        let Some((cue, level)) = found else {
            i += 1;
            continue;
        };
        let denied = (i.saturating_sub(3)..i).any(|j| NEGATIONS.contains(&ws[j].as_str()));
        if !denied {
            out.push(*level);
        }
        i += cue.split(' ').count();
    }
}

/// The level of one message: its last cue, if it has one.
pub fn of_message(text: &str) -> Option<Level> {
    let lower = text.to_lowercase();
    let mut cues = Vec::new();
    for sentence in lower.split(['.', '!', '?', '\n', ';']) {
        sentence_cues(sentence, &mut cues);
    }
    cues.last().copied()
}

/// The level of the moment: the newest message (of `newest_first`) that has a cue decides;
/// `None` when no message has one.
pub fn cue_of_dialog<'a>(newest_first: impl IntoIterator<Item = &'a str>) -> Option<Level> {
    newest_first.into_iter().find_map(of_message)
}

#[cfg(test)]
mod tests;
