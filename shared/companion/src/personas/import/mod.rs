//! Bringing a community card in, and a persona out. Community cards (SillyTavern, chub…)
//! state no age: the operator says it (`--age`, 18 or more) and the card records it in
//! `data.extensions.companion` with `age_source: "operator"`. The card — JSON or PNG; V2, V3
//! or a flat V1 card (wrapped as V2) — must then pass everything the loader checks, the
//! minor-safety screen of its words first: a card whose words point to a minor is refused
//! whatever age is stated. It is written as `<dir>/<slug>.json`, its picture (the card PNG
//! without its card chunks, or `--avatar`) as `<dir>/avatars/<slug>.png`, so the next start
//! loads it. Export writes a persona as a card PNG (`export`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::png::{self, PngCardError};
use super::{EXTENSION, Persona, PersonaError, export_png, load_dir, parse};

/// Why a card was not imported or a persona not exported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file cannot be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The stated age is not an adult's.
    #[error("the age must be 18 or more (an adult), got {0}; nothing was imported")]
    Age(i64),
    /// The file holds no card, or one we cannot use.
    #[error("refused: {0}")]
    Card(#[from] PersonaError),
    /// The PNG holds no card, or is no PNG.
    #[error("{0}: {1}")]
    Png(String, PngCardError),
    /// The slug cannot name files.
    #[error("slug {0:?}: use lowercase letters, digits, '-' and '_' (pass --slug)")]
    Slug(String),
    /// The persona exists; replacing it must be asked for.
    #[error("{0} already exists; pass --replace to overwrite it")]
    Exists(String),
    /// No persona by that name.
    #[error("no persona {0:?} in {1} (neither a file nor <slug>.json / <slug>.png there)")]
    Unknown(String, String),
}

/// What to import.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The card file (JSON or PNG).
    pub card: PathBuf,
    /// The age the operator vouches for.
    pub age: i64,
    /// The persona's slug (file stem); from her name when not given.
    pub slug: Option<String>,
    /// A PNG to use as her avatar (a card PNG's own picture otherwise).
    pub avatar: Option<PathBuf>,
    /// The personas folder.
    pub dir: PathBuf,
    /// Overwrite a persona of the same slug.
    pub replace: bool,
}

/// An imported persona and the files written.
#[derive(Debug)]
pub struct Imported {
    /// The persona, as the loader will read it.
    pub persona: Persona,
    /// Files written, the card last.
    pub written: Vec<PathBuf>,
}

/// Imports a card (see the module header).
pub fn import(r: &Request) -> Result<Imported, ImportError> {
    if !(18..=150).contains(&r.age) {
        return Err(ImportError::Age(r.age));
    }
    let name = r.card.display().to_string();
    let bytes = std::fs::read(&r.card).map_err(|e| ImportError::Io(name.clone(), e))?;
    let (json, mut picture) = if bytes.starts_with(b"\x89PNG") {
        let png_err = |e| ImportError::Png(name.clone(), e);
        let card = png::read_card(&bytes).map_err(png_err)?;
        (card, Some(png::strip_card(&bytes).map_err(png_err)?))
    } else {
        (bytes, None)
    };
    if let Some(path) = &r.avatar {
        let shown = path.display().to_string();
        let b = std::fs::read(path).map_err(|e| ImportError::Io(shown.clone(), e))?;
        picture = Some(png::strip_card(&b).map_err(|e| ImportError::Png(shown, e))?);
    }
    let format = |field: &str, reason: String| PersonaError::Format {
        file: name.clone(),
        field: field.to_owned(),
        reason,
    };
    let raw: Value = serde_json::from_slice(&json).map_err(|e| format("(json)", e.to_string()))?;
    let mut card = as_v2_or_v3(raw).map_err(|(f, why)| format(f, why))?;
    let slug = match &r.slug {
        Some(s) => s.clone(),
        None => slug_of(card["data"]["name"].as_str().unwrap_or("")),
    };
    if slug.is_empty()
        || !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(ImportError::Slug(slug));
    }
    let next_order = next_sort_order(&r.dir);
    let ours = companion_of(&mut card).map_err(|(f, why)| format(f, why))?;
    ours.insert("age".into(), r.age.into());
    ours.insert("age_source".into(), "operator".into());
    ours.entry("sort_order").or_insert(next_order.into());
    let text = serde_json::to_vec_pretty(&card).expect("a card serializes");
    let mut persona = parse(&name, &slug, &text)?;
    let target = r.dir.join(format!("{slug}.json"));
    let card_png = r.dir.join(format!("{slug}.png"));
    for existing in [&target, &card_png] {
        if existing.exists() && !r.replace {
            return Err(ImportError::Exists(existing.display().to_string()));
        }
    }
    let mut written = Vec::new();
    let avatar = r.dir.join("avatars").join(format!("{slug}.png"));
    if let Some(p) = picture {
        write(&avatar, &p)?;
        written.push(avatar);
        persona.avatar = Some(p);
    } else if avatar.exists() {
        // A replaced persona without a picture of her own must not wear the old one's.
        std::fs::remove_file(&avatar)
            .map_err(|e| ImportError::Io(avatar.display().to_string(), e))?;
    }
    if card_png.exists() {
        std::fs::remove_file(&card_png)
            .map_err(|e| ImportError::Io(card_png.display().to_string(), e))?;
    }
    write(&target, &text)?;
    written.push(target);
    Ok(Imported { persona, written })
}

/// Exports persona `what` — a card file, or a slug in `dir` — as a card PNG at `out`.
pub fn export(what: &str, dir: &Path, out: &Path) -> Result<Persona, ImportError> {
    let path = Path::new(what);
    let (from, file) = if path.is_file() {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        (
            parent.unwrap_or(Path::new(".")).to_owned(),
            file.into_owned(),
        )
    } else {
        let found = [format!("{what}.json"), format!("{what}.png")]
            .into_iter()
            .find(|f| dir.join(f).is_file());
        let unknown = || ImportError::Unknown(what.to_owned(), dir.display().to_string());
        (dir.to_owned(), found.ok_or_else(unknown)?)
    };
    let (slug, _) = file.rsplit_once('.').unwrap_or((&file, ""));
    let persona = super::load::one(&from, &file, slug)?;
    let png = export_png(&persona).map_err(|e| ImportError::Png(file.clone(), e))?;
    write(out, &png)?;
    Ok(persona)
}

/// The card as V2 or V3; a flat V1 card (no `spec`, its fields at the top) wrapped as V2.
fn as_v2_or_v3(raw: Value) -> Result<Value, (&'static str, String)> {
    match raw.get("spec").and_then(Value::as_str) {
        Some("chara_card_v2" | "chara_card_v3") => Ok(raw),
        None if raw.get("name").is_some_and(Value::is_string) && raw.get("data").is_none() => {
            let field = |k: &str| raw.get(k).filter(|v| v.is_string()).cloned();
            let mut data = Map::new();
            for k in ["name", "description", "personality", "scenario"] {
                data.insert(k.into(), field(k).unwrap_or_else(|| "".into()));
            }
            data.insert("first_mes".into(), field("first_mes").unwrap_or("".into()));
            data.insert(
                "mes_example".into(),
                field("mes_example").unwrap_or("".into()),
            );
            // SillyTavern keeps a V1 card's notes as `creatorcomment`.
            data.insert(
                "creator_notes".into(),
                field("creatorcomment").unwrap_or("".into()),
            );
            for k in ["system_prompt", "post_history_instructions", "creator"] {
                data.insert(k.into(), "".into());
            }
            data.insert("character_version".into(), "".into());
            data.insert("alternate_greetings".into(), json!([]));
            let tags = raw.get("tags").filter(|t| t.is_array()).cloned();
            data.insert("tags".into(), tags.unwrap_or(json!([])));
            data.insert("extensions".into(), json!({}));
            Ok(json!({"spec": "chara_card_v2", "spec_version": "2.0", "data": data}))
        }
        other => Err((
            "spec",
            format!("{other:?} is not a character card (chara_card_v2, chara_card_v3 or V1)"),
        )),
    }
}

/// `data.extensions.companion` of `card`, made when missing.
fn companion_of(card: &mut Value) -> Result<&mut Map<String, Value>, (&'static str, String)> {
    let Some(data) = card.get_mut("data").filter(|d| d.is_object()) else {
        return Err(("data", "must be an object".into()));
    };
    if data["extensions"].is_null() {
        data["extensions"] = json!({});
    }
    let Some(ext) = data["extensions"].as_object_mut() else {
        return Err(("data.extensions", "must be an object".into()));
    };
    let ours = ext.entry(EXTENSION).or_insert(json!({}));
    ours.as_object_mut()
        .ok_or(("data.extensions.companion", "must be an object".to_owned()))
}

/// A slug from a name: lowercase ASCII letters and digits (accented Latin letters without
/// their accents), other runs as one `-`.
fn slug_of(name: &str) -> String {
    const ACCENTED: [(&str, char); 7] = [
        ("àáâãäåā", 'a'),
        ("çč", 'c'),
        ("èéêëēę", 'e'),
        ("ìíîïī", 'i'),
        ("ñń", 'n'),
        ("òóôõöøō", 'o'),
        ("ùúûüū", 'u'),
    ];
    let plain = |c: char| {
        let c = c.to_lowercase().next().unwrap_or(c);
        let found = ACCENTED.iter().find(|(from, _)| from.contains(c));
        found.map_or(c, |(_, to)| *to)
    };
    let mut out = String::new();
    for c in name.chars().map(plain) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// One after the last persona of `dir` in the picker, so a newcomer comes last.
fn next_sort_order(dir: &Path) -> i32 {
    let loaded = load_dir(dir).map(|l| l.personas).unwrap_or_default();
    loaded.iter().map(|p| p.sort_order).max().unwrap_or(0) + 1
}

/// Writes `bytes` to `path` whole: a temporary file beside it, then renamed.
fn write(path: &Path, bytes: &[u8]) -> Result<(), ImportError> {
    let shown = || path.display().to_string();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ImportError::Io(shown(), e))?;
    }
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| ImportError::Io(shown(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| ImportError::Io(shown(), e))
}

#[cfg(test)]
mod tests;
