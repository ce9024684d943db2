//! Asks the LLM (OpenAI-compatible chat completions, Venice by default) for the photo's scene
//! as JSON of `scene::schema()` (`response_format: json_schema`, strict). One short call with
//! its own timeout and no retries: whatever goes wrong, the caller falls back to the keyword
//! reading, so a slow or broken model never holds a photo back for long.

use std::time::Duration;

use companion::locale::Lang;
use runtime::config::Secret;
use runtime::http::Timed;
use serde::Deserialize;

use crate::compose::Look;
use crate::scene::{Scene, schema};

/// Model settings for scene calls.
#[derive(Debug, Clone)]
pub struct SceneLlmSettings {
    /// Base URL without `/chat/completions`; empty turns the calls off.
    pub base_url: String,
    /// Bearer key (may be empty for a local stand-in).
    pub api_key: Secret,
    /// Model id.
    pub model: String,
    /// Whole-call timeout.
    pub timeout: Duration,
}

/// The client.
pub struct SceneLlm {
    http: reqwest::Client,
    url: String,
    s: SceneLlmSettings,
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

impl SceneLlm {
    /// Builds the client.
    pub fn new(s: SceneLlmSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(s.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("{}/chat/completions", s.base_url.trim_end_matches('/'));
        Ok(Self { http, url, s })
    }

    /// The scene the model proposes, or why there is none (logged by the caller).
    pub async fn scene(
        &self,
        look: &Look,
        previous: Option<&Scene>,
        newest_first: &[(String, String)],
        wish: Option<&str>,
        lang: Lang,
    ) -> Result<Scene, String> {
        if self.s.base_url.is_empty() {
            return Err("scene calls are off".into());
        }
        let body = serde_json::json!({
            "model": self.s.model,
            "messages": [
                {"role": "system", "content": instructions(look, previous, lang)},
                {"role": "user", "content": transcript(look, newest_first, wish)},
            ],
            "temperature": 0.4,
            "max_completion_tokens": 400,
            "stream": false,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "photo_scene", "strict": true, "schema": schema()},
            },
            "venice_parameters": {"include_venice_system_prompt": false, "strip_thinking_response": true},
        });
        let resp = runtime::http::post_json(&self.http, &self.url, &self.s.api_key, &body)
            .timed("scene_llm")
            .await
            .map_err(|e| format!("request: {}", e.without_url()))?;
        if !resp.status().is_success() {
            return Err(format!("answered {}", resp.status()));
        }
        let done: Completion = resp
            .json()
            .await
            .map_err(|e| format!("not a completion: {e}"))?;
        let content = done
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or("no content")?;
        Scene::parse(&content).map_err(|e| e.to_string())
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
         Everyone in this story is an adult.",
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
