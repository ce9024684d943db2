//! Reading a streamed chat completion: OpenAI's server-sent events (`data: {json}` lines with
//! `choices[0].delta.content`, ending in `data: [DONE]`). A server that ignores `stream: true`
//! and answers one JSON completion is read as a single piece, so any compatible API works.

use runtime::HandlerError;
use runtime::telemetry::hops::{self, Part};
use serde::Deserialize;

/// Pieces of an answer as they arrive.
pub struct Pieces {
    resp: Option<reqwest::Response>,
    buf: Vec<u8>,
    done: bool,
    whole: bool,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Content>,
    #[serde(default)]
    message: Option<Content>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    content: Option<String>,
}

fn garbled(what: impl std::fmt::Display) -> HandlerError {
    HandlerError::transient(format!(
        "llm answered something that is not a completion: {what}"
    ))
}

impl Pieces {
    /// Reads `resp` (a successful answer) piece by piece.
    pub fn new(resp: reqwest::Response) -> Self {
        let whole = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        Self {
            resp: Some(resp),
            buf: Vec::new(),
            done: false,
            whole,
        }
    }

    /// The next piece of text; `None` at the end of the answer.
    pub async fn next(&mut self) -> Result<Option<String>, HandlerError> {
        if self.whole {
            return self.read_whole().await;
        }
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some(end) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                if let Some(piece) = self.line(&line)? {
                    return Ok(Some(piece));
                }
                if self.done {
                    self.drain().await;
                }
                continue;
            }
            let Some(resp) = self.resp.as_mut() else {
                return Ok(None);
            };
            // Waiting for the model's next words is the outside call's time.
            match hops::part(Part::Outside, resp.chunk()).await {
                Ok(Some(bytes)) => self.buf.extend_from_slice(&bytes),
                // The stream ended without [DONE]: what came is the answer (a final line
                // without its newline included).
                Ok(None) => {
                    self.done = true;
                    let rest = std::mem::take(&mut self.buf);
                    return self.line(&rest);
                }
                Err(e) => {
                    return Err(HandlerError::transient(format!(
                        "llm stream: {}",
                        e.without_url()
                    )));
                }
            }
        }
    }

    /// Reads what follows `[DONE]` (normally just the end of the body), so the connection goes
    /// back to the pool instead of being closed.
    async fn drain(&mut self) {
        let Some(mut resp) = self.resp.take() else {
            return;
        };
        let mut left: usize = 64 * 1024;
        while let Ok(Some(bytes)) = resp.chunk().await {
            left = left.saturating_sub(bytes.len());
            if left == 0 {
                break;
            }
        }
    }

    /// One SSE line: a piece of text, or nothing (comments, empty deltas, the end).
    fn line(&mut self, line: &[u8]) -> Result<Option<String>, HandlerError> {
        let line = std::str::from_utf8(line).map_err(garbled)?.trim();
        let Some(data) = line.strip_prefix("data:").map(str::trim) else {
            return Ok(None);
        };
        if data == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(garbled)?;
        if let Some(e) = chunk.error {
            return Err(HandlerError::transient(format!("llm stream error: {e}")));
        }
        Ok(chunk
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.delta.or(c.message))
            .and_then(|c| c.content)
            .filter(|c| !c.is_empty()))
    }

    async fn read_whole(&mut self) -> Result<Option<String>, HandlerError> {
        let Some(resp) = self.resp.take() else {
            return Ok(None);
        };
        let bytes = hops::part(Part::Outside, resp.bytes())
            .await
            .map_err(|e| HandlerError::transient(format!("llm body: {}", e.without_url())))?;
        let chunk: Chunk = serde_json::from_slice(&bytes).map_err(garbled)?;
        Ok(chunk
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.or(c.delta))
            .and_then(|c| c.content))
    }
}
