//! What the minor-safety scan reports and how strictly it reads: a `Hit` of one `Rule` (the
//! kind of signal, logged and counted, never the user's text) and the `Mode` a scan runs in.
//! Every part of the scan (`ages`, `context`, `picture`, `scan`) speaks these types, so they
//! sit apart from all of them.

/// What kind of signal was found (logged, never the user's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A term that means a minor.
    Term,
    /// A phrase that means a minor, or a school stage.
    Phrase,
    /// A family word not owned or denied.
    Family,
    /// A family word taken as a role to play ("be my daughter").
    Role,
    /// An age under 18.
    Age,
    /// A school grade.
    Grade,
    /// A body or styling cue of a childlike look, in a picture.
    Picture,
}

impl Rule {
    /// For logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Term => "term",
            Rule::Phrase => "phrase",
            Rule::Family => "family",
            Rule::Role => "role",
            Rule::Age => "age",
            Rule::Grade => "grade",
            Rule::Picture => "picture",
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

/// A hit of `rule` on `term`, for the scan's `return hit(…)`.
pub(super) fn hit(rule: Rule, term: impl Into<String>) -> Option<Hit> {
    Some(Hit {
        rule,
        term: term.into(),
    })
}

/// How strict a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Family words count even when owned ("my kids"), and ages of owned children.
    pub owned: bool,
    /// Ages of owned children count ("her son is 7") even where owned family words do not.
    pub owned_ages: bool,
    /// An adult's memories and past ages count ("when I was 15").
    pub memories: bool,
    /// Body and styling cues of a childlike look count ("flat-chested", "braces and pigtails").
    pub picture: bool,
}

impl Mode {
    /// Chat: owned family words, memories and denials pass.
    pub const CHAT: Mode = Mode {
        owned: false,
        owned_ages: false,
        memories: false,
        picture: false,
    };
    /// Text with sexual content: owned family words pass, memories do not excuse.
    pub const SEXUAL: Mode = Mode {
        owned: false,
        owned_ages: false,
        memories: true,
        picture: false,
    };
    /// Text that describes a picture: everything counts.
    pub const PICTURE: Mode = Mode {
        owned: true,
        owned_ages: true,
        memories: true,
        picture: true,
    };
    /// A remembered fact about a real person: memories do not excuse and an owned child's age
    /// counts, but "the user has a daughter" is not a minor by itself.
    pub const FACT: Mode = Mode {
        owned: false,
        owned_ages: true,
        memories: true,
        picture: false,
    };
}
