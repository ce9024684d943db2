//! The scene of a dialog's photo: place, time of day, pose, expression, clothing item by item,
//! nudity level and a caption. The LLM proposes it as JSON (see [`schema`]); [`Scene::parse`]
//! takes only an answer that fits the schema and passes the minor-safety scan, and when the
//! model fails or talks nonsense [`Scene::fallback`] reads it from keywords of the dialog,
//! keeping what the previous scene of the dialog had.

use companion::content::nudity::Level;
use companion::content::safety;
use serde::{Deserialize, Serialize};

/// Longest accepted scene field, in characters.
const MAX_FIELD: usize = 80;
/// Longest accepted caption.
const MAX_CAPTION: usize = 200;
/// Most clothing items.
const MAX_ITEMS: usize = 8;

/// Where and how she is in the picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Where ("in a cozy café by the window").
    pub place: String,
    /// When ("evening").
    pub time_of_day: String,
    /// How she stands or sits.
    pub pose: String,
    /// Her face.
    pub expression: String,
    /// What she wears, item by item (empty: her usual outfit).
    pub clothing: Vec<String>,
    /// How undressed.
    pub level: Level,
    /// A short line she writes under the photo.
    pub caption: String,
}

/// Why a proposed scene was not taken.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SceneError {
    /// Not JSON of the schema's shape.
    #[error("not a scene: {0}")]
    Shape(String),
    /// A field empty, too long, or on several lines.
    #[error("field {0} is empty, too long or not one line")]
    Field(&'static str),
    /// Something in it suggests a minor.
    #[error("the scene suggests a minor ({0} rule)")]
    Unsafe(&'static str),
}

/// The JSON schema the model answers to (`response_format: json_schema`, strict).
pub fn schema() -> serde_json::Value {
    let text = |max: usize| serde_json::json!({"type": "string", "maxLength": max});
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["place", "time_of_day", "pose", "expression", "clothing", "level", "caption"],
        "properties": {
            "place": text(MAX_FIELD),
            "time_of_day": text(MAX_FIELD),
            "pose": text(MAX_FIELD),
            "expression": text(MAX_FIELD),
            "clothing": {"type": "array", "maxItems": MAX_ITEMS, "items": text(MAX_FIELD)},
            "level": {"type": "string", "enum": Level::ALL.map(Level::as_str)},
            "caption": text(MAX_CAPTION),
        }
    })
}

fn one_line(
    field: &'static str,
    s: &str,
    max: usize,
    may_be_empty: bool,
) -> Result<(), SceneError> {
    let bad = s.chars().count() > max
        || s.contains(['\n', '\r'])
        || (!may_be_empty && s.trim().is_empty());
    if bad {
        Err(SceneError::Field(field))
    } else {
        Ok(())
    }
}

impl Scene {
    /// Takes the model's answer (a JSON object, possibly in a code fence) when it fits.
    pub fn parse(answer: &str) -> Result<Scene, SceneError> {
        let body = answer
            .trim()
            .trim_start_matches("```json")
            .trim_start_matches("```")
            .trim_end_matches("```");
        let mut scene: Scene =
            serde_json::from_str(body.trim()).map_err(|e| SceneError::Shape(e.to_string()))?;
        one_line("place", &scene.place, MAX_FIELD, false)?;
        one_line("time_of_day", &scene.time_of_day, MAX_FIELD, true)?;
        one_line("pose", &scene.pose, MAX_FIELD, false)?;
        one_line("expression", &scene.expression, MAX_FIELD, false)?;
        one_line("caption", &scene.caption, MAX_CAPTION, true)?;
        if scene.clothing.len() > MAX_ITEMS {
            return Err(SceneError::Field("clothing"));
        }
        for item in &scene.clothing {
            one_line("clothing", item, MAX_FIELD, false)?;
        }
        scene
            .clothing
            .iter_mut()
            .for_each(|i| *i = i.trim().to_owned());
        if let Some(hit) = safety::check_picture(&scene.text()) {
            return Err(SceneError::Unsafe(hit.rule.as_str()));
        }
        Ok(scene)
    }

    /// Every text of the scene, for the safety scan.
    pub fn text(&self) -> String {
        let mut parts = vec![
            &self.place,
            &self.time_of_day,
            &self.pose,
            &self.expression,
            &self.caption,
        ];
        parts.extend(self.clothing.iter());
        parts
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(". ")
    }

    /// The scene read from keywords of `newest_first` (the dialog's latest messages), keeping
    /// what `previous` had where the messages say nothing.
    pub fn fallback(previous: Option<&Scene>, newest_first: &[impl AsRef<str>]) -> Scene {
        let prev = previous.cloned().unwrap_or_default();
        let place = find(PLACES, newest_first)
            .map(str::to_owned)
            .unwrap_or(prev.place);
        let time_of_day = find(TIMES, newest_first)
            .map(str::to_owned)
            .unwrap_or(prev.time_of_day);
        Scene {
            place: if place.is_empty() {
                "in a cozy room".into()
            } else {
                place
            },
            time_of_day,
            pose: "relaxed pose, looking at the camera".into(),
            expression: "soft smile".into(),
            clothing: prev.clothing,
            level: prev.level,
            caption: String::new(),
        }
    }
}

/// Places recognised in the dialog, most recent mention wins: (keywords, prompt text).
const PLACES: &[(&[&str], &str)] = &[
    (
        &["beach", "sea", "ocean", "пляж", "море"],
        "on a sunny beach",
    ),
    (
        &["cafe", "café", "coffee", "кафе", "кофейн"],
        "in a cozy café",
    ),
    (
        &["harbour", "harbor", "port", "гавань", "порт"],
        "by the harbour",
    ),
    (&["kitchen", "cook", "кухн"], "in a bright kitchen"),
    (
        &["bedroom", "bed", "спальн", "кровать", "постел"],
        "in a softly lit bedroom",
    ),
    (&["shower", "bath", "душ", "ванн"], "in a steamy bathroom"),
    (&["park", "forest", "парк", "лес"], "in a green park"),
    (&["mountain", "climb", "гор", "скал"], "in the mountains"),
    (&["office", "work", "офис", "работ"], "in a modern office"),
    (
        &["street", "city", "walk", "улиц", "город", "гуля"],
        "on a city street",
    ),
    (
        &["home", "sofa", "couch", "дом", "диван"],
        "at home on the sofa",
    ),
];

/// Times of day: (keywords, prompt text).
const TIMES: &[(&[&str], &str)] = &[
    (&["morning", "breakfast", "утр", "завтрак"], "morning light"),
    (
        &["sunset", "evening", "dinner", "вечер", "закат", "ужин"],
        "evening, warm sunset light",
    ),
    (
        &["night", "midnight", "ноч", "полноч"],
        "night, dim lamp light",
    ),
    (
        &["afternoon", "lunch", "днём", "днем", "обед"],
        "afternoon daylight",
    ),
];

/// The first message (newest first) naming one of `table`'s keywords.
fn find(
    table: &[(&[&str], &'static str)],
    newest_first: &[impl AsRef<str>],
) -> Option<&'static str> {
    newest_first.iter().find_map(|m| {
        let lower = m.as_ref().to_lowercase();
        table
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| lower.contains(k)))
            .map(|(_, p)| *p)
    })
}

#[cfg(test)]
mod tests;
