//! Asks the LLM (OpenAI-compatible chat completions, Venice by default, in the API's flavor)
//! for the photo's scene as JSON of `scene::schema()`. The format steps down when the server
//! refuses it — `json_schema` (strict), then `json_object`, then plain text, the level reached
//! remembered for the process (`runtime::llm::structured`); the instructions name the keys, so
//! an answer at any level can be read. One short call with its own deadline and no retries:
//! whatever goes wrong, the caller falls back to the keyword reading (of the model's own words
//! too, when it answered plain text that is not the JSON asked for), so a slow or broken model
//! never holds a photo back for long.

use std::time::Duration;

use companion::content::safety;
use companion::locale::Lang;
use runtime::llm::{
    ChatMessage, Endpoint, Ladder, Level, LlmClient, Request, ResponseFormat, Sampling,
};

use crate::compose::Look;
use crate::scene::{Scene, SceneError, schema};

/// How freely the scene is written: low, so it follows the dialog.
const TEMPERATURE: f32 = 0.4;
/// The scene's length cap in tokens.
const MAX_TOKENS: u32 = 400;
/// The schema's name in `response_format`.
const SCHEMA_NAME: &str = "photo_scene";

/// Model settings for scene calls.
#[derive(Debug, Clone)]
pub struct SceneLlmSettings {
    /// Where the model is and its flavor; `None` turns the calls off.
    pub endpoint: Option<Endpoint>,
    /// The whole call's deadline, every format tried included.
    pub timeout: Duration,
}

/// Why the model gave no scene.
#[derive(Debug, Clone, PartialEq)]
pub struct NoScene {
    /// What went wrong, for the log.
    pub why: String,
    /// The model's own words, when it answered plain text that is not the JSON asked for
    /// and passed the picture rules: worth a keyword reading before the dialog's.
    pub words: Option<String>,
}

impl NoScene {
    fn because(why: impl Into<String>) -> Self {
        Self {
            why: why.into(),
            words: None,
        }
    }
}

/// The client.
pub struct SceneLlm {
    client: Option<LlmClient>,
    ladder: Ladder,
    timeout: Duration,
}

impl SceneLlm {
    /// Builds the client.
    pub fn new(s: SceneLlmSettings) -> Result<Self, String> {
        let client = match s.endpoint {
            Some(e) => Some(LlmClient::new(e, s.timeout, "scene_llm")?),
            None => None,
        };
        Ok(Self {
            client,
            ladder: Ladder::new(),
            timeout: s.timeout,
        })
    }

    /// The scene the model proposes, or why there is none (logged by the caller).
    pub async fn scene(
        &self,
        look: &Look,
        previous: Option<&Scene>,
        newest_first: &[(String, String)],
        wish: Option<&str>,
        lang: Lang,
    ) -> Result<Scene, NoScene> {
        let Some(client) = &self.client else {
            return Err(NoScene::because("scene calls are off"));
        };
        let messages = [
            ChatMessage {
                role: "system".into(),
                content: instructions(look, previous, lang),
            },
            ChatMessage {
                role: "user".into(),
                content: transcript(look, newest_first, wish),
            },
        ];
        let request = Request {
            messages: &messages,
            sampling: Sampling::fixed(TEMPERATURE, client.endpoint().flavor),
            max_completion_tokens: MAX_TOKENS,
            stream: false,
            format: ResponseFormat::Text,
        };
        let schema = schema();
        let asked = self.ladder.ask(client, request, (SCHEMA_NAME, &schema));
        let answer = tokio::time::timeout(self.timeout, asked)
            .await
            .map_err(|_| NoScene::because(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| NoScene::because(e.to_string()))?;
        read(&answer.text, answer.level)
    }
}

/// The scene in an answer given at `level`: the JSON object in it (a model answering plain
/// text may wrap it in words or a code fence). Plain words that hold no such object are handed
/// back for a keyword reading, unless the picture rules refuse them.
pub fn read(answer: &str, level: Level) -> Result<Scene, NoScene> {
    let object = match (answer.find('{'), answer.rfind('}')) {
        (Some(a), Some(b)) if a < b => &answer[a..=b],
        _ => answer,
    };
    match Scene::parse(object) {
        Ok(scene) => Ok(scene),
        Err(e @ SceneError::Shape(_))
            if level == Level::Plain && safety::check_picture(answer).is_none() =>
        {
            Err(NoScene {
                why: e.to_string(),
                words: Some(answer.chars().take(2000).collect()),
            })
        }
        Err(e) => Err(NoScene::because(e.to_string())),
    }
}

fn instructions(look: &Look, previous: Option<&Scene>, lang: Lang) -> String {
    let previous = previous
        .and_then(|s| serde_json::to_string(s).ok())
        .unwrap_or_else(|| "none yet".into());
    format!(
        "You set the scene of a photo that {name}, an adult woman of {age}, sends in a role-play chat. \
         Read the conversation and describe the moment right now as JSON: where she is (place), the time of day, \
         her pose, her facial expression, what she is wearing item by item (an empty list means her usual outfit: {outfit}), \
         how undressed she is (level: none, undressing, partial or full), and a caption of at most 15 words that she \
         writes under the photo, in her voice, in {language}. Follow on from the previous scene unless the story moved: {previous}. \
         Everyone in this story is an adult. Answer with one JSON object and nothing else, with exactly the keys \
         place, time_of_day, pose, expression, clothing (a list of strings), level and caption.",
        name = look.name,
        age = look.age,
        outfit = look.clothing,
        language = match lang {
            Lang::En => "English",
            Lang::Ru => "Russian",
        },
    )
}

fn transcript(look: &Look, newest_first: &[(String, String)], wish: Option<&str>) -> String {
    let mut lines: Vec<String> = newest_first
        .iter()
        .rev()
        .map(|(role, text)| {
            let who = if role == "user" {
                "User"
            } else {
                look.name.as_str()
            };
            format!("{who}: {text}")
        })
        .collect();
    if !look.lore.is_empty() {
        let lore = look.lore.iter().map(|l| format!("- {l}"));
        let head = std::iter::once("What the story says about this moment:".to_owned());
        lines.splice(0..0, head.chain(lore).chain([String::new()]));
    }
    if let Some(w) = wish {
        lines.push(format!("(The user asks for this photo: {w})"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENE: &str = r#"{"place": "on a sunny beach", "time_of_day": "evening", "pose": "standing", "expression": "smiling", "clothing": [], "level": "none", "caption": "Hi"}"#;

    #[test]
    fn the_json_is_found_in_a_plain_answer() {
        let wrapped = format!("Here is the scene:\n```json\n{SCENE}\n```\nEnjoy!");
        let s = read(&wrapped, Level::Plain).unwrap();
        assert_eq!(s.place, "on a sunny beach");
        assert_eq!(read(SCENE, Level::Schema).unwrap(), s);
    }

    #[test]
    fn plain_words_are_handed_back_for_keywords_and_structured_nonsense_is_not() {
        let words = "She is on the beach at sunset, laughing.";
        let no = read(words, Level::Plain).unwrap_err();
        assert_eq!(no.words.as_deref(), Some(words));
        let s = Scene::fallback(None, &[no.words.unwrap()]);
        assert_eq!(
            (s.place.as_str(), s.time_of_day.as_str()),
            ("on a sunny beach", "evening, warm sunset light")
        );
        assert_eq!(read(words, Level::Object).unwrap_err().words, None);
    }

    #[test]
    fn words_the_picture_rules_refuse_are_not_read() {
        let no = read("A schoolgirl of 14 on the beach", Level::Plain).unwrap_err();
        assert_eq!(no.words, None);
    }

    #[test]
    fn the_instructions_name_every_key_of_the_schema() {
        let look = Look {
            name: "Stacy".into(),
            age: 24,
            appearance: String::new(),
            clothing: "jeans".into(),
            negative: String::new(),
            lore: Vec::new(),
        };
        let text = instructions(&look, None, Lang::En);
        let schema = schema();
        for key in schema["required"].as_array().unwrap() {
            assert!(text.contains(key.as_str().unwrap()), "{key}");
        }
        assert!(text.contains("JSON"), "json_object needs the word");
    }

    #[test]
    fn the_lore_of_the_moment_heads_the_transcript() {
        let mut look = Look {
            name: "Stacy".into(),
            age: 24,
            appearance: String::new(),
            clothing: String::new(),
            negative: String::new(),
            lore: vec!["The lighthouse is red and white.".into()],
        };
        let said = [("user".to_owned(), "to the lighthouse!".to_owned())];
        assert_eq!(
            transcript(&look, &said, None),
            "What the story says about this moment:\n- The lighthouse is red and white.\n\n\
             User: to the lighthouse!"
        );
        look.lore.clear();
        assert_eq!(transcript(&look, &said, None), "User: to the lighthouse!");
    }
}
