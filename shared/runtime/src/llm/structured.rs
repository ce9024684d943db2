//! Structured answers from servers that may not serve every `response_format`. A call is
//! asked at the process's current [`Level`] — `json_schema` (strict), then `json_object`, then
//! plain text (the messages themselves ask for JSON) — and the [`Ladder`] remembers, in one
//! atomic per process, the level calls start at.
//!
//! The rule: a structured call answered 400 or 422 (other than a prompt too long for the
//! model) is asked again at once one level lower. The level is lowered for the process only
//! when a lower level then succeeds, i.e. when the refusal was about the format after all. A
//! 400 for anything else — a bad model name, a refused prompt — is refused at every level, so
//! it leaves the remembered level where it was and is returned as it came (permanent); any
//! other failure (429, 5xx, no answer) is returned at once, without stepping down.

use std::sync::atomic::{AtomicU8, Ordering};

use serde::Deserialize;
use serde_json::Value;

use super::client::{Failure, LlmClient};
use super::request::{Request, ResponseFormat};

/// How structured the answer is asked for, most structured first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `response_format: {"type": "json_schema", …}`.
    Schema = 0,
    /// `response_format: {"type": "json_object"}`.
    Object = 1,
    /// No `response_format`: plain text.
    Plain = 2,
}

impl Level {
    fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Schema,
            1 => Level::Object,
            _ => Level::Plain,
        }
    }

    /// The next level down, `None` below plain text.
    pub fn lower(self) -> Option<Level> {
        match self {
            Level::Schema => Some(Level::Object),
            Level::Object => Some(Level::Plain),
            Level::Plain => None,
        }
    }

    /// The `response_format` of this level for the schema `name`d.
    pub fn format<'a>(self, name: &'a str, schema: &'a Value) -> ResponseFormat<'a> {
        match self {
            Level::Schema => ResponseFormat::JsonSchema { name, schema },
            Level::Object => ResponseFormat::JsonObject,
            Level::Plain => ResponseFormat::Text,
        }
    }
}

/// The level structured calls start at, shared by every call of the process.
#[derive(Debug, Default)]
pub struct Ladder(AtomicU8);

/// What a structured call gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer's text (JSON unless the server ignored the request for it).
    pub text: String,
    /// The level it was answered at.
    pub level: Level,
}

/// Why a structured call has no answer.
#[derive(Debug, thiserror::Error)]
pub enum StructuredError {
    /// The server's failure (at the lowest level tried, for a refused format).
    #[error(transparent)]
    Failed(#[from] Failure),
    /// It answered 200 with something that is not a completion.
    #[error("not a completion: {0}")]
    NotACompletion(String),
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

/// Whether a refusal of a structured call may be about its format.
fn may_refuse_format(f: &Failure) -> bool {
    matches!(f, Failure::Refused(r) if (r.status == 400 || r.status == 422) && !r.is_context_overflow())
}

impl Ladder {
    /// A ladder starting at `json_schema`.
    pub const fn new() -> Self {
        Self(AtomicU8::new(Level::Schema as u8))
    }

    /// The level calls start at now.
    pub fn level(&self) -> Level {
        Level::from_u8(self.0.load(Ordering::Relaxed))
    }

    /// Notes that `level` was answered after a higher one was refused: calls start there
    /// from now on (never higher again in this process).
    fn settle(&self, level: Level) {
        let was = self.0.fetch_max(level as u8, Ordering::Relaxed);
        if was < level as u8 {
            tracing::warn!(
                from = ?Level::from_u8(was),
                to = ?level,
                "the LLM refuses the structured format; later calls ask at the lower level"
            );
        }
    }

    /// Asks `request` (its `format` replaced by each level's) for JSON of `schema`, stepping
    /// down as the module's rule says; the first choice's text.
    pub async fn ask(
        &self,
        client: &LlmClient,
        request: Request<'_>,
        (name, schema): (&str, &Value),
    ) -> Result<Answer, StructuredError> {
        let start = self.level();
        let mut level = start;
        let resp = loop {
            let asked = Request {
                format: level.format(name, schema),
                ..request
            };
            match client.send(&asked).await {
                Ok(resp) => break resp,
                Err(f) => match level.lower() {
                    Some(lower) if may_refuse_format(&f) => {
                        tracing::info!(?level, ?lower, "structured call refused; asking lower");
                        level = lower;
                    }
                    _ => return Err(f.into()),
                },
            }
        };
        if level != start {
            self.settle(level);
        }
        let done: Completion = resp
            .json()
            .await
            .map_err(|e| StructuredError::NotACompletion(e.without_url().to_string()))?;
        let text = done
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| StructuredError::NotACompletion("no content".into()))?;
        Ok(Answer { text, level })
    }
}
