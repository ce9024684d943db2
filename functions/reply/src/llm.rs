//! The answers' chat completions client (Venice by default, or any OpenAI-compatible API in
//! its own flavor: `runtime::llm` builds the body and sends it): errors classified by
//! `runtime::http` — 429 waits for the rate-limit reset, 5xx and timeouts retry, other 4xx are
//! permanent, a garbled answer retries — and a prompt longer than the model's context reported
//! apart, so the caller can trim the history. Answers are asked for streamed (`stream: true`)
//! and read by `crate::sse`; what of their text is kept is `crate::answer`'s. Memory
//! extraction asks for JSON instead, whole, stepping down the format ladder
//! (`runtime::llm::structured`) as fn-prompt's scene call does.

use std::time::Duration;

use runtime::HandlerError;
use runtime::llm::{
    Answer, Endpoint, Failure, Ladder, LlmClient, Request, ResponseFormat, Sampling,
    StructuredError,
};

pub use runtime::llm::ChatMessage;

use crate::sse::Pieces;

/// Model parameters.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// Where the model is, which one, and the API's flavor.
    pub endpoint: Endpoint,
    /// Answer length cap.
    pub max_completion_tokens: u32,
    /// Temperature and penalties, valid for the flavor.
    pub sampling: Sampling,
    /// Whole-call timeout.
    pub timeout: Duration,
}

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The prompt is longer than the model's context (`context_length_exceeded`).
    #[error("the prompt does not fit the model's context")]
    ContextOverflow,
    /// Anything else, classified for the runner.
    #[error(transparent)]
    Failed(#[from] HandlerError),
}

impl From<LlmError> for HandlerError {
    fn from(e: LlmError) -> Self {
        match e {
            LlmError::ContextOverflow => HandlerError::permanent(e.to_string()),
            LlmError::Failed(h) => h,
        }
    }
}

/// A chat completions client.
pub struct Llm {
    client: LlmClient,
    max_completion_tokens: u32,
    sampling: Sampling,
    ladder: Ladder,
}

impl Llm {
    /// Builds the client.
    pub fn new(s: LlmSettings) -> Result<Self, String> {
        Ok(Self {
            client: LlmClient::new(s.endpoint, s.timeout, "llm")?,
            max_completion_tokens: s.max_completion_tokens,
            sampling: s.sampling,
            ladder: Ladder::new(),
        })
    }

    /// Asks for the next assistant message, streamed: the answer's pieces as they come.
    /// Errors before the first byte are classified here (429, 5xx, context overflow…).
    /// `hot`: written again because the last one repeated itself — warmer and less
    /// repetitive, within what the API accepts.
    pub async fn start(&self, messages: &[ChatMessage], hot: bool) -> Result<Pieces, LlmError> {
        let request = Request {
            messages,
            sampling: if hot {
                self.sampling.warmer()
            } else {
                self.sampling
            },
            max_completion_tokens: self.max_completion_tokens,
            stream: true,
            format: ResponseFormat::Text,
        };
        match self.client.send(&request).await {
            Ok(resp) => Ok(Pieces::new(resp)),
            Err(Failure::Refused(r)) if r.is_context_overflow() => Err(LlmError::ContextOverflow),
            Err(f) => Err(LlmError::Failed(f.into())),
        }
    }

    /// Asks for one JSON answer of `schema` (named `name`), not streamed, at `temperature`
    /// and at most `max_tokens` long; the format steps down when the server refuses it.
    pub async fn structured(
        &self,
        messages: &[ChatMessage],
        (name, schema): (&str, &serde_json::Value),
        (temperature, max_tokens): (f32, u32),
    ) -> Result<Answer, HandlerError> {
        let request = Request {
            messages,
            sampling: Sampling::fixed(temperature, self.client.endpoint().flavor),
            max_completion_tokens: max_tokens,
            stream: false,
            format: ResponseFormat::Text,
        };
        match self.ladder.ask(&self.client, request, (name, schema)).await {
            Ok(answer) => Ok(answer),
            Err(StructuredError::Failed(f)) => Err(f.into()),
            Err(e @ StructuredError::NotACompletion(_)) => {
                Err(HandlerError::transient(e.to_string()))
            }
        }
    }
}
