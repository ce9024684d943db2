//! The body of `POST {base}/chat/completions`: OpenAI's fields for every flavor
//! (`max_completion_tokens`, both penalties, `response_format` only when a structured answer is
//! asked for), and `venice_parameters` only for Venice — a strict OpenAI-compatible
//! server refuses a field it does not know.

use serde::Serialize;
use serde_json::{Value, json};

use super::{Endpoint, Flavor, Sampling};

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// The shape the answer is asked in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResponseFormat<'a> {
    /// JSON of this schema (`{"type":"json_schema"}`, strict).
    JsonSchema {
        /// The schema's name.
        name: &'a str,
        /// The JSON schema.
        schema: &'a Value,
    },
    /// Any JSON object (`{"type":"json_object"}`); the messages must ask for JSON.
    JsonObject,
    /// Plain text: no `response_format` is sent.
    Text,
}

impl ResponseFormat<'_> {
    /// The `response_format` field, `None` for plain text.
    fn field(&self) -> Option<Value> {
        match self {
            ResponseFormat::JsonSchema { name, schema } => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": name, "strict": true, "schema": schema},
            })),
            ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
            ResponseFormat::Text => None,
        }
    }
}

/// One completion request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The conversation.
    pub messages: &'a [ChatMessage],
    /// Temperature and penalties.
    pub sampling: Sampling,
    /// Answer length cap.
    pub max_completion_tokens: u32,
    /// Ask for server-sent events.
    pub stream: bool,
    /// The answer's shape.
    pub format: ResponseFormat<'a>,
}

impl Request<'_> {
    /// The JSON body for `endpoint`, in its flavor.
    pub fn body(&self, endpoint: &Endpoint) -> Value {
        let s = &self.sampling;
        let mut body = json!({
            "model": endpoint.model,
            "messages": self.messages,
            "temperature": s.temperature,
            "frequency_penalty": s.frequency_penalty,
            "presence_penalty": s.presence_penalty,
            "max_completion_tokens": self.max_completion_tokens,
            "stream": self.stream,
        });
        let fields = body.as_object_mut().expect("an object");
        if let Some(format) = self.format.field() {
            fields.insert("response_format".into(), format);
        }
        if endpoint.flavor == Flavor::Venice {
            // Without it Venice puts its own system prompt before the persona's.
            fields.insert(
                "venice_parameters".into(),
                json!({"include_venice_system_prompt": false, "strip_thinking_response": true}),
            );
        }
        body
    }
}
