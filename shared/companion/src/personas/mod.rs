//! Personas: Character Cards in `personas/` — V2 or V3 JSON (`<slug>.json`, avatar in
//! `avatars/<slug>.png`) or a PNG with the card embedded (`<slug>.png`, its own avatar) —
//! validated at load (an adult age is required, by this loader and by a database constraint)
//! and synced into the `girls` table. Our own fields live under `data.extensions.companion`;
//! unknown keys are kept, and a persona exports back to a card PNG.

mod card;
pub mod lorebook;
pub mod png;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::PgPool;

pub use card::{DEFAULT_SYSTEM_PROMPT, parse};

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
    /// Two files give the same persona.
    #[error("{0} and {1} both define persona {2:?}")]
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

/// Replaces `{{char}}` / `<BOT>` (any case) with the persona's name.
pub fn expand_char(text: &str, name: &str) -> String {
    replace_ci(&replace_ci(text, "{{char}}", name), "<bot>", name)
}

/// Replaces `{{user}}` / `<USER>` (any case) with the user's name.
pub fn expand_user(text: &str, user: &str) -> String {
    replace_ci(&replace_ci(text, "{{user}}", user), "<user>", user)
}

fn replace_ci(text: &str, pattern: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(pattern) {
        out.push_str(&text[last..i]);
        out.push_str(with);
        last = i + pattern.len();
    }
    out.push_str(&text[last..]);
    out
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

/// The persona as a card PNG on its avatar: `chara` holds the card as V2, `ccv3` as V3.
pub fn export_png(p: &Persona) -> Result<Vec<u8>, png::PngCardError> {
    let avatar = p
        .avatar
        .as_deref()
        .ok_or(png::PngCardError::NotPng("the persona has no avatar"))?;
    let mut v2 = p.card.clone();
    v2["spec"] = "chara_card_v2".into();
    v2["spec_version"] = "2.0".into();
    let mut v3 = p.card.clone();
    v3["spec"] = "chara_card_v3".into();
    v3["spec_version"] = "3.0".into();
    if v3["data"].get("group_only_greetings").is_none() {
        v3["data"]["group_only_greetings"] = serde_json::json!([]);
    }
    let json = |v: &serde_json::Value| serde_json::to_vec(v).expect("a card serializes");
    png::write_card(avatar, &json(&v2), &json(&v3))
}

/// Loads every card in `dir` (`*.json` and `*.png`). Any bad card fails the load: a persona
/// silently missing is worse than a start-up error naming the file.
pub fn load_dir(dir: &Path) -> Result<Vec<Persona>, PersonaError> {
    let io = |file: &Path| {
        let file = file.display().to_string();
        move |source| PersonaError::Io { file, source }
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "png"))
        .collect();
    files.sort();
    let mut out: Vec<(String, Persona)> = Vec::new();
    for path in &files {
        let file = path.display().to_string();
        let slug = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(path).map_err(io(path))?;
        let persona = if path.extension().is_some_and(|x| x == "png") {
            parse_png(&file, &slug, &bytes)?
        } else {
            let mut p = parse(&file, &slug, &bytes)?;
            let avatar = dir.join("avatars").join(format!("{slug}.png"));
            p.avatar = match std::fs::read(&avatar) {
                Ok(b) => Some(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&avatar)(e)),
            };
            p
        };
        if let Some((other, _)) = out.iter().find(|(_, p)| p.slug == slug) {
            return Err(PersonaError::Duplicate(other.clone(), file, slug));
        }
        out.push((file, persona));
    }
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// Upserts personas by slug; personas whose file is gone are deactivated, not deleted
/// (dialogs still point at them).
pub async fn sync(pool: &PgPool, personas: &[Persona]) -> Result<(), PersonaError> {
    let mut tx = pool.begin().await?;
    for p in personas {
        sqlx::query(
            "INSERT INTO girls (slug, name, age, system_prompt, greeting, clothing_description,
                                appearance, negative_prompt, card, sort_order, post_history,
                                alternate_greetings, pitch, avatar, max_nsfw_level, is_active, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, TRUE, now())
             ON CONFLICT (slug) DO UPDATE SET name = $2, age = $3, system_prompt = $4, greeting = $5,
                 clothing_description = $6, appearance = $7, negative_prompt = $8, card = $9,
                 sort_order = $10, post_history = $11, alternate_greetings = $12, pitch = $13,
                 avatar = $14, max_nsfw_level = $15, is_active = TRUE, updated_at = now(),
                 avatar_effect_id = CASE WHEN girls.avatar IS NOT DISTINCT FROM $14
                                         THEN girls.avatar_effect_id END",
        )
        .bind(&p.slug)
        .bind(&p.name)
        .bind(p.age)
        .bind(&p.system_prompt)
        .bind(&p.greeting)
        .bind(&p.clothing)
        .bind(&p.appearance)
        .bind(&p.negative_prompt)
        .bind(&p.card)
        .bind(p.sort_order)
        .bind(&p.post_history)
        .bind(&p.alternate_greetings)
        .bind(sqlx::types::Json(&p.pitch))
        .bind(&p.avatar)
        .bind(p.max_level.as_str())
        .execute(&mut *tx)
        .await?;
        lorebook::store(&mut tx, &p.slug, p.lorebook.as_ref()).await?;
    }
    let slugs: Vec<String> = personas.iter().map(|p| p.slug.clone()).collect();
    sqlx::query("UPDATE girls SET is_active = FALSE WHERE NOT (slug = ANY($1))")
        .bind(&slugs)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
