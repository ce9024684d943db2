//! Personas: Character Cards in `personas/` — V2 or V3 JSON (`<slug>.json`, avatar in
//! `avatars/<slug>.png`) or a PNG with the card embedded (`<slug>.png`, its own avatar) —
//! validated at load (an adult age is required, by this loader and by a database constraint;
//! no word may point to a minor) and synced into the `girls` table. A bad card is refused
//! alone: the others load, and its problem is logged and kept for the admin panel. Our own
//! fields live under `data.extensions.companion`; unknown keys are kept, a community card
//! is imported with the age the operator vouches for (`import`), and a persona exports back
//! to a card PNG that SillyTavern reads (`export`).

mod card;
pub mod cli;
pub mod export;
pub mod import;
mod lang;
mod load;
pub mod lorebook;
mod macros;
pub mod png;
mod screen;
mod sync;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use card::{DEFAULT_SYSTEM_PROMPT, parse};
pub use export::export_png;
pub use load::{Loaded, Problem, load_dir};
pub use macros::{expand_char, expand_user};
pub use sync::sync;

/// Extension key holding our fields.
pub const EXTENSION: &str = "companion";

/// A persona card that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PersonaError {
    /// Unreadable file.
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    /// A field is missing or wrong.
    #[error("{file}: {field}: {reason}")]
    Format {
        file: String,
        field: String,
        reason: String,
    },
    /// Not an adult, or no age given.
    #[error(
        "{file}: data.extensions.companion.age: the persona must state an adult age (18+), got {age:?}"
    )]
    NotAdult { file: String, age: Option<i64> },
    /// A PNG without a usable card.
    #[error("{file}: {source}")]
    Png {
        file: String,
        source: png::PngCardError,
    },
    /// Words of the card point to a minor.
    #[error(
        "{file}: {field}: the text points to a minor ({rule} rule); only adults may be personas"
    )]
    Minor {
        file: String,
        field: String,
        rule: &'static str,
    },
    /// Two files give the same persona.
    #[error("{1}: slug: persona {2:?} is already defined by {0}")]
    Duplicate(String, String, String),
    /// Database sync failed.
    #[error("syncing personas: {0}")]
    Db(#[from] sqlx::Error),
}

/// A validated persona, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// File stem, stable across edits.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Adult age.
    pub age: i32,
    /// System prompt, description, personality, scenario, the adults-only line and the
    /// example dialogue, `{{char}}` expanded (`{{user}}` stays for the reply stage).
    pub system_prompt: String,
    /// What goes after the history (may be empty).
    pub post_history: String,
    /// First message.
    pub greeting: String,
    /// Other first messages, browsable under the greeting.
    pub alternate_greetings: Vec<String>,
    /// Greetings in other languages, by code: the first, then its alternates.
    pub greetings: BTreeMap<String, Vec<String>>,
    /// One-line pitch for the picker, by language code.
    pub pitch: BTreeMap<String, String>,
    /// Image tags for the look.
    pub appearance: String,
    /// Constant clothing.
    pub clothing: String,
    /// Extra negative prompt terms.
    pub negative_prompt: String,
    /// Position in the menu.
    pub sort_order: i32,
    /// The most undressed her pictures may be (`max_nsfw_level`, default partial).
    pub max_level: crate::content::nudity::Level,
    /// The whole card as JSON.
    pub card: serde_json::Value,
    /// Avatar PNG, when the persona has one.
    pub avatar: Option<Vec<u8>>,
    /// The card's lorebook, what of it may be used (`None`: none).
    pub lorebook: Option<lorebook::Lorebook>,
}

impl PersonaError {
    /// The file the problem is in.
    pub fn file(&self) -> &str {
        match self {
            Self::Io { file, .. }
            | Self::Format { file, .. }
            | Self::NotAdult { file, .. }
            | Self::Png { file, .. }
            | Self::Minor { file, .. }
            | Self::Duplicate(_, file, _) => file,
            Self::Db(_) => "",
        }
    }

    /// The field of the card the problem is about (`(file)`, `(png)`, `(json)` for the
    /// file as a whole).
    pub fn field(&self) -> &str {
        match self {
            Self::Io { .. } | Self::Db(_) => "(file)",
            Self::Png { .. } => "(png)",
            Self::Format { field, .. } | Self::Minor { field, .. } => field,
            Self::NotAdult { .. } => "data.extensions.companion.age",
            Self::Duplicate(..) => "slug",
        }
    }

    /// Why, without the file and field.
    pub fn reason(&self) -> String {
        match self {
            Self::Io { source, .. } => source.to_string(),
            Self::Format { reason, .. } => reason.clone(),
            Self::NotAdult { age, .. } => match age {
                Some(a) => format!("the persona must state an adult age (18+), got {a}"),
                None => "the persona must state an adult age (18+), none given".into(),
            },
            Self::Png { source, .. } => source.to_string(),
            Self::Minor { rule, .. } => {
                format!("the text points to a minor ({rule} rule); only adults may be personas")
            }
            Self::Duplicate(first, _, slug) => {
                format!("persona {slug:?} is already defined by {first}")
            }
            Self::Db(e) => e.to_string(),
        }
    }
}

/// Parses a card PNG (the card from its `ccv3` or `chara` chunk, the image as avatar).
pub fn parse_png(file: &str, slug: &str, bytes: &[u8]) -> Result<Persona, PersonaError> {
    let json = png::read_card(bytes).map_err(|source| PersonaError::Png {
        file: file.to_owned(),
        source,
    })?;
    let mut p = parse(file, slug, &json)?;
    p.avatar = Some(bytes.to_vec());
    Ok(p)
}
