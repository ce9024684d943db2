//! Normalisation for the minor-safety scan: what a writer does to slip a word past a filter is
//! undone here. Zero-width characters and soft hyphens are dropped, look-alike letters of the
//! other script are folded into a word's main script, digits inside words read as letters
//! (leetspeak), letters spaced or split by symbols are joined (see `spelled`), and every word gets a
//! *skeleton*: Cyrillic transliterated, and Latin spelling variants folded, so "школьница",
//! "shkolnitsa" and "shkolnica" compare equal.

/// One word of the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The word, lower case, look-alikes folded (digits kept for numbers).
    pub text: String,
    /// Its skeleton (see [`skeleton`]).
    pub skel: String,
    /// Its value when the word is all digits.
    pub num: Option<u32>,
    /// Index of the sentence it is in.
    pub sentence: usize,
    /// Index of the clause (commas and colons split sentences into clauses).
    pub clause: usize,
    /// Whether it touches the previous token with only a symbol between (`t-e-e-n`, `15yo`).
    pub glued: bool,
}

fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{034F}')
}

/// Latin letter for a Cyrillic look-alike, and back.
const LOOKALIKES: &[(char, char)] = &[
    ('a', 'а'),
    ('e', 'е'),
    ('o', 'о'),
    ('p', 'р'),
    ('c', 'с'),
    ('x', 'х'),
    ('y', 'у'),
    ('k', 'к'),
    ('m', 'м'),
    ('t', 'т'),
    ('b', 'в'),
    ('h', 'н'),
    ('i', 'і'),
];

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// Folds the minority script's look-alikes into the majority script of a word.
fn fold_scripts(word: &str) -> String {
    let cyr = word.chars().filter(|c| is_cyrillic(*c)).count();
    let lat = word.chars().filter(char::is_ascii_alphabetic).count();
    if cyr == 0 || lat == 0 {
        return word.to_owned();
    }
    word.chars()
        .map(|c| {
            let pair = if cyr >= lat {
                LOOKALIKES.iter().find(|(l, _)| *l == c).map(|(_, k)| *k)
            } else {
                LOOKALIKES.iter().find(|(_, k)| *k == c).map(|(l, _)| *l)
            };
            pair.unwrap_or(c)
        })
        .collect()
}

/// Digits read as letters inside a word: `l0li`, `t33n`, `sch00lg1rl`.
fn leet(word: &str) -> String {
    let cyr = word.chars().any(is_cyrillic);
    word.chars()
        .map(|c| match c {
            '0' => {
                if cyr {
                    'о'
                } else {
                    'o'
                }
            }
            '1' => 'i',
            '3' => {
                if cyr {
                    'з'
                } else {
                    'e'
                }
            }
            '4' => {
                if cyr {
                    'ч'
                } else {
                    'a'
                }
            }
            '5' => 's',
            '7' => 't',
            '8' => 'b',
            c => c,
        })
        .collect()
}

/// The skeleton of a word: Cyrillic transliterated to Latin, spelling variants folded
/// (`shch`/`sch` → `sh`, `kh` → `h`, `ts`/`tz` → `c`, `y`/`j` → `i`, `w` → `v`…), apostrophes
/// dropped and letters repeated three times or more cut to two.
pub fn skeleton(word: &str) -> String {
    let mut s = String::with_capacity(word.len());
    for c in word.chars() {
        let t = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' | 'ы' | 'і' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "h",
            'ц' => "c",
            'ч' => "ch",
            'ш' | 'щ' => "sh",
            'ъ' | 'ь' | '\'' | '’' => "",
            'ю' => "iu",
            'я' => "ia",
            _ => {
                s.push(c);
                continue;
            }
        };
        s.push_str(t);
    }
    for (from, to) in [
        ("shch", "sh"),
        ("sch", "sh"),
        ("tch", "ch"),
        ("kh", "h"),
        ("ts", "c"),
        ("tz", "c"),
        ("ph", "f"),
        ("ck", "k"),
        ("w", "v"),
        ("q", "k"),
        ("j", "i"),
        ("y", "i"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut run = (None, 0);
    for c in s.chars() {
        run = if run.0 == Some(c) {
            (Some(c), run.1 + 1)
        } else {
            (Some(c), 1)
        };
        if run.1 <= 2 {
            out.push(c);
        }
    }
    out
}

pub(super) fn token(text: String, (sentence, clause): (usize, usize), glued: bool) -> Token {
    let num = if text.chars().all(|c| c.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    };
    Token {
        skel: skeleton(&text),
        text,
        num,
        sentence,
        clause,
        glued,
    }
}

/// Splits a raw word into tokens: `15yo` → `15` + `yo`; other digits inside letters are leet.
fn push_word(raw: &str, sentence: (usize, usize), glued: bool, out: &mut Vec<Token>) {
    let digits = raw.chars().take_while(char::is_ascii_digit).count();
    let rest = &raw[digits..];
    if digits > 0 && !rest.is_empty() && !rest.chars().any(|c| c.is_ascii_digit()) {
        out.push(token(raw[..digits].to_owned(), sentence, glued));
        out.push(token(fold_scripts(rest), sentence, true));
    } else if digits == raw.len() {
        out.push(token(raw.to_owned(), sentence, glued));
    } else {
        out.push(token(fold_scripts(&leet(raw)), sentence, glued));
    }
}

/// The words of `text`, normalised, in order, with sentence numbers.
pub fn tokens(text: &str) -> Vec<Token> {
    let text: String = text
        .to_lowercase()
        .chars()
        .filter(|c| !invisible(*c))
        .map(|c| match c {
            // Fullwidth forms (ｓｃｈｏｏｌ) read as ASCII.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            'ё' => 'е',
            '@' => 'a',
            '$' => 's',
            '’' | '`' | 'ʼ' => '\'',
            c => c,
        })
        .collect();
    let mut out = Vec::new();
    let (mut sentence, mut clause, mut word, mut glued, mut gap) =
        (0, 0, String::new(), false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let apostrophe =
            c == '\'' && !word.is_empty() && chars.peek().is_some_and(|n| n.is_alphabetic());
        if c.is_alphanumeric() || apostrophe {
            if word.is_empty() {
                glued = !gap && !out.is_empty();
            }
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            push_word(
                &std::mem::take(&mut word),
                (sentence, clause),
                glued,
                &mut out,
            );
            gap = false;
        }
        let ends = matches!(c, '!' | '?' | '\n' | ';')
            || (c == '.' && chars.peek().is_none_or(|n| n.is_whitespace()));
        if ends {
            sentence += 1;
            clause += 1;
            gap = true;
        } else if matches!(c, ',' | ':') {
            clause += 1;
            gap = true;
        } else if c.is_whitespace() {
            gap = true;
        }
    }
    if !word.is_empty() {
        push_word(&word, (sentence, clause), glued, &mut out);
    }
    out
}
