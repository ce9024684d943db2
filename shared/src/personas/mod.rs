//! Personas: Character Card V2 JSON files in `personas/`, validated at load (an adult age is
//! required, by this loader and by a database constraint) and synced into the `girls` table.
//! Our own fields live under `data.extensions.companion`; unknown keys are kept in `card`.

use std::path::Path;

use serde::Deserialize;
use sqlx::PgPool;

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
    /// Not a Character Card V2.
    #[error("{file}: not a chara_card_v2 card: {reason}")]
    Format { file: String, reason: String },
    /// Not an adult, or no age given.
    #[error("{file}: rejected: the persona must state an adult age (18+), got {age:?}")]
    NotAdult { file: String, age: Option<i64> },
    /// Database sync failed.
    #[error("syncing personas: {0}")]
    Db(#[from] sqlx::Error),
}

#[derive(Deserialize)]
struct Card {
    spec: String,
    data: CardData,
}

#[derive(Deserialize)]
struct CardData {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    personality: String,
    #[serde(default)]
    scenario: String,
    first_mes: String,
    #[serde(default)]
    system_prompt: String,
    #[serde(default)]
    extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct Companion {
    age: Option<i64>,
    #[serde(default)]
    appearance: String,
    #[serde(default)]
    clothing: String,
    #[serde(default)]
    negative_prompt: String,
    #[serde(default)]
    sort_order: i32,
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
    /// Full system prompt, macros expanded (`{{user}}` stays for the reply stage).
    pub system_prompt: String,
    /// First message.
    pub greeting: String,
    /// Image tags for the look.
    pub appearance: String,
    /// Constant clothing.
    pub clothing: String,
    /// Extra negative prompt terms.
    pub negative_prompt: String,
    /// Position in the menu.
    pub sort_order: i32,
    /// The whole card as JSON.
    pub card: serde_json::Value,
}

/// Parses one card; `slug` names it in errors and in the database.
pub fn parse(slug: &str, bytes: &[u8]) -> Result<Persona, PersonaError> {
    let file = slug.to_owned();
    let format = |reason: String| PersonaError::Format {
        file: file.clone(),
        reason,
    };
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format(e.to_string()))?;
    let card: Card = serde_json::from_value(raw.clone()).map_err(|e| format(e.to_string()))?;
    if card.spec != "chara_card_v2" {
        return Err(format(format!("spec is {:?}", card.spec)));
    }
    let d = card.data;
    let ours: Companion = d
        .extensions
        .get(EXTENSION)
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| format(format!("extensions.{EXTENSION}: {e}")))?
        .unwrap_or_default();
    let age = match ours.age {
        Some(a) if (18..=150).contains(&a) => a as i32,
        other => return Err(PersonaError::NotAdult { file, age: other }),
    };
    let name = d.name.trim().to_owned();
    if name.is_empty() || d.first_mes.trim().is_empty() {
        return Err(format("name and first_mes must not be empty".into()));
    }
    let expand = |s: &str| expand_char(s, &name);
    let mut parts = vec![expand(&d.system_prompt), expand(&d.description)];
    if !d.personality.trim().is_empty() {
        parts.push(format!("{name}'s personality: {}", expand(&d.personality)));
    }
    if !d.scenario.trim().is_empty() {
        parts.push(format!("Scenario: {}", expand(&d.scenario)));
    }
    parts.push(format!("{name} is {age} years old, an adult."));
    let system_prompt = parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok(Persona {
        slug: slug.to_owned(),
        age,
        system_prompt,
        greeting: expand(&d.first_mes),
        appearance: ours.appearance,
        clothing: ours.clothing,
        negative_prompt: ours.negative_prompt,
        sort_order: ours.sort_order,
        name,
        card: raw,
    })
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

/// Loads every `*.json` card in `dir`. Any bad card fails the load: a persona silently
/// missing is worse than a start-up error naming the file.
pub fn load_dir(dir: &Path) -> Result<Vec<Persona>, PersonaError> {
    let io = |source| PersonaError::Io {
        file: dir.display().to_string(),
        source,
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let slug = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(p).map_err(|source| PersonaError::Io {
                file: p.display().to_string(),
                source,
            })?;
            parse(&slug, &bytes)
        })
        .collect()
}

/// Upserts personas by slug; personas whose file is gone are deactivated, not deleted
/// (dialogs still point at them).
pub async fn sync(pool: &PgPool, personas: &[Persona]) -> Result<(), PersonaError> {
    let mut tx = pool.begin().await?;
    for p in personas {
        sqlx::query(
            "INSERT INTO girls (slug, name, age, system_prompt, greeting, clothing_description,
                                appearance, negative_prompt, card, sort_order, is_active, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, TRUE, now())
             ON CONFLICT (slug) DO UPDATE SET name = $2, age = $3, system_prompt = $4, greeting = $5,
                 clothing_description = $6, appearance = $7, negative_prompt = $8, card = $9,
                 sort_order = $10, is_active = TRUE, updated_at = now()",
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
        .execute(&mut *tx)
        .await?;
    }
    let slugs: Vec<String> = personas.iter().map(|p| p.slug.clone()).collect();
    sqlx::query("UPDATE girls SET is_active = FALSE WHERE NOT (slug = ANY($1))")
        .bind(&slugs)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(age: &str) -> String {
        format!(
            r#"{{"spec":"chara_card_v2","spec_version":"2.0","data":{{"name":"Mira","description":"{{{{char}}}} paints.",
            "first_mes":"Hi {{{{user}}}}, I'm {{{{char}}}}.","extensions":{{"companion":{{"age":{age}}},"other":{{"k":1}}}}}}}}"#
        )
    }

    #[test]
    fn adult_card_loads_with_macros_expanded() {
        let p = parse("mira", card("24").as_bytes()).unwrap();
        assert_eq!(p.age, 24);
        assert!(p.system_prompt.contains("Mira paints."));
        assert_eq!(p.greeting, "Hi {{user}}, I'm Mira.");
        assert_eq!(p.card["data"]["extensions"]["other"]["k"], 1);
    }

    #[test]
    fn minor_or_missing_age_is_rejected() {
        assert!(matches!(
            parse("x", card("17").as_bytes()),
            Err(PersonaError::NotAdult { .. })
        ));
        assert!(matches!(
            parse("x", card("null").as_bytes()),
            Err(PersonaError::NotAdult { .. })
        ));
    }

    #[test]
    fn shipped_personas_are_valid_adults() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../personas");
        let all = load_dir(&dir).unwrap();
        assert!(all.len() >= 2);
        assert!(all.iter().all(|p| p.age >= 18));
    }

    #[test]
    fn user_macro_is_case_insensitive() {
        assert_eq!(
            expand_user("Hi {{User}} and <USER>", "Ann"),
            "Hi Ann and Ann"
        );
    }
}
