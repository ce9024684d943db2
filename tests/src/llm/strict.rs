//! How strictly the LLM stand-in reads a request. By default it is Venice: any field is taken
//! (`venice_parameters` among them) and every `response_format` is served. [`Mode::Strict`]
//! is a strict OpenAI-compatible server as many self-hosted ones are: an unknown top-level
//! field, a temperature outside 0–2 or a penalty outside −2–2 is a 400, and so is
//! `response_format: json_schema` (`json_object` is served). [`Mode::NoFormats`] also refuses
//! `json_object`: only plain text, whose messages must ask for JSON themselves.

use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::script::Script;

/// How strictly requests are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Venice's way: lenient about fields, every format served.
    Venice = 0,
    /// A strict OpenAI-compatible server without `json_schema`.
    Strict = 1,
    /// Strict, and no `response_format` at all but plain text.
    NoFormats = 2,
}

impl Mode {
    /// The stand-in's mode.
    pub fn of(script: &Script) -> Mode {
        match script.llm_mode.load(Ordering::Relaxed) {
            1 => Mode::Strict,
            2 => Mode::NoFormats,
            _ => Mode::Venice,
        }
    }

    /// Sets the stand-in's mode.
    pub fn set(self, script: &Script) {
        script.llm_mode.store(self as u8, Ordering::Relaxed);
    }
}

/// The top-level fields of OpenAI's chat completions request.
const KNOWN: &[&str] = &[
    "model",
    "messages",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

/// Why a server in `mode` refuses `request` with a 400, and the parameter at fault.
pub fn refusal(mode: Mode, request: &Value) -> Option<(String, &'static str)> {
    if mode == Mode::Venice {
        return None;
    }
    if let Some(unknown) = request
        .as_object()?
        .keys()
        .find(|k| !KNOWN.contains(&k.as_str()))
    {
        let m = format!("Unrecognized request argument supplied: {unknown}");
        return Some((m, "unknown"));
    }
    let number = |key: &str| request.get(key).map(|v| v.as_f64().unwrap_or(f64::NAN));
    for (key, low, high) in [
        ("temperature", 0.0, 2.0),
        ("top_p", 0.0, 1.0),
        ("frequency_penalty", -2.0, 2.0),
        ("presence_penalty", -2.0, 2.0),
    ] {
        if let Some(v) = number(key).filter(|v| !(low..=high).contains(v)) {
            let m = format!("Invalid '{key}': expected a number from {low} to {high}, got {v}");
            return Some((m, "range"));
        }
    }
    let format = request.get("response_format")?;
    let kind = format["type"].as_str().unwrap_or("");
    let served: &[&str] = match mode {
        Mode::NoFormats => &["text"],
        _ => &["text", "json_object"],
    };
    (!served.contains(&kind)).then(|| {
        let m = format!("response_format type '{kind}' is not supported by this server");
        (m, "response_format")
    })
}

/// The answer a model gives when asked for a scene: in JSON mode the object itself; asked in
/// plain text by its instructions ("… JSON …" in the system message), the object in words and
/// a code fence, as chat models write. `None` for any other request.
pub fn scene_answer(request: &Value, scene: &str) -> Option<String> {
    match request["response_format"]["type"].as_str() {
        Some("json_schema" | "json_object") => Some(scene.to_owned()),
        Some(_) => None,
        None => {
            let asks = request["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["role"] == "system")
                .any(|m| m["content"].as_str().is_some_and(|c| c.contains("JSON")));
            asks.then(|| format!("Here is the scene:\n```json\n{scene}\n```"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_servers_refuse_what_openai_does_not_know() {
        let venice = json!({"model": "m", "messages": [], "venice_parameters": {},
            "response_format": {"type": "json_schema"}});
        assert_eq!(refusal(Mode::Venice, &venice), None);
        let (m, _) = refusal(Mode::Strict, &venice).unwrap();
        assert!(m.contains("venice_parameters"), "{m}");
        let schema = json!({"model": "m", "response_format": {"type": "json_schema"}});
        assert_eq!(refusal(Mode::Strict, &schema).unwrap().1, "response_format");
        let object = json!({"model": "m", "response_format": {"type": "json_object"}});
        assert_eq!(refusal(Mode::Strict, &object), None);
        assert!(refusal(Mode::NoFormats, &object).is_some());
        let hot = json!({"model": "m", "temperature": 2.5});
        assert_eq!(refusal(Mode::Strict, &hot).unwrap().1, "range");
    }

    #[test]
    fn a_scene_is_answered_only_when_asked_for_json() {
        let plain = json!({"messages": [{"role": "system", "content": "Answer as JSON"}]});
        assert!(
            scene_answer(&plain, "{}")
                .unwrap()
                .contains("```json\n{}\n```")
        );
        let chat = json!({"messages": [{"role": "system", "content": "You are Stacy"}]});
        assert_eq!(scene_answer(&chat, "{}"), None);
        let object = json!({"response_format": {"type": "json_object"}});
        assert_eq!(scene_answer(&object, "{}").as_deref(), Some("{}"));
    }
}
