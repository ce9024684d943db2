//! Voice notes: the OpenAI-compatible speech APIs (`POST /audio/transcriptions`, multipart,
//! for speech to text; `POST /audio/speech`, JSON, for text to speech — faster-whisper-server,
//! whisper.cpp's server, Venice, OpenAI), their settings (each optional: a bot without them
//! has no voice), the Ogg/Opus checks ([`ogg`]) and the cutting of a long text into pieces a
//! speech API takes ([`split`]).

pub mod ogg;
pub mod split;

use std::time::Duration;

use serde_json::json;

use crate::config::{Env, Secret};
use crate::error::HandlerError;
use crate::http::{Timed, success, unanswered};

/// One speech API: where, with which key and model.
#[derive(Debug, Clone)]
pub struct Api {
    /// Base URL (`…/v1`), without a trailing slash.
    pub url: String,
    /// Bearer key (empty: none, as a local server needs).
    pub key: Secret,
    /// Model name.
    pub model: String,
}

/// Voice settings, shared by the functions that hear or speak.
#[derive(Debug, Clone)]
pub struct VoiceSettings {
    /// Speech to text (`STT_API_URL`, `STT_API_KEY`, `STT_MODEL`); `None`: voice notes in are
    /// answered with a note.
    pub stt: Option<Api>,
    /// Text to speech (`TTS_API_URL`, `TTS_API_KEY`, `TTS_MODEL`); `None`: no 🔊.
    pub tts: Option<Api>,
    /// The voice when the persona names none (`TTS_VOICE`).
    pub default_voice: String,
    /// Longest piece of text one speech call gets (`TTS_MAX_CHARS`).
    pub tts_max_chars: usize,
    /// Most voice notes one answer is spoken in (`TTS_MAX_PARTS`).
    pub tts_max_parts: usize,
    /// Largest voice note heard or sent, in bytes (`VOICE_MAX_BYTES`).
    pub max_bytes: usize,
    /// Seconds of voice notes one user may send per day (`VOICE_SECONDS_PER_DAY`).
    pub seconds_per_day: u32,
    /// Bound on one speech call (`AUDIO_TIMEOUT_SECS`).
    pub timeout: Duration,
    /// Voice notes one copy of fn-updates hears at once (`VOICE_HEARING`); more wait.
    pub hearing: usize,
}

impl VoiceSettings {
    /// Reads the voice settings; an API is configured when its URL is set.
    pub fn read(env: &mut Env) -> Self {
        let mut api = |prefix: &str, model: &str| -> Option<Api> {
            let key = format!("{prefix}_API_URL");
            if env.string(&key, "").is_empty() {
                return None;
            }
            Some(Api {
                url: env.url(&key, ""),
                key: env.optional_secret(&format!("{prefix}_API_KEY")),
                model: env.string(&format!("{prefix}_MODEL"), model),
            })
        };
        let stt = api("STT", "whisper-1");
        let tts = api("TTS", "tts-1");
        let s = Self {
            stt,
            tts,
            default_voice: env.string("TTS_VOICE", "nova"),
            tts_max_chars: env.parse("TTS_MAX_CHARS", 1000),
            tts_max_parts: env.parse("TTS_MAX_PARTS", 4),
            max_bytes: env.parse("VOICE_MAX_BYTES", 1 << 20),
            seconds_per_day: env.parse("VOICE_SECONDS_PER_DAY", 300),
            timeout: env.seconds("AUDIO_TIMEOUT_SECS", 60, 1),
            hearing: env.parse("VOICE_HEARING", 4),
        };
        if s.tts_max_chars < 50 || s.tts_max_chars > 4096 {
            env.problem("TTS_MAX_CHARS must be between 50 and 4096");
        }
        if s.hearing == 0 {
            env.problem("VOICE_HEARING must be at least 1");
        }
        if s.tts_max_parts == 0 {
            env.problem("TTS_MAX_PARTS must be at least 1");
        }
        if s.max_bytes < 1024 || s.max_bytes > 20 << 20 {
            env.problem("VOICE_MAX_BYTES must be between 1024 and 20971520 (Telegram's 20 MB)");
        }
        s
    }
}

/// A speech API client (either direction).
#[derive(Clone)]
pub struct Speech {
    http: reqwest::Client,
    api: Api,
    max_bytes: usize,
}

impl Speech {
    /// A client for `api`, each call bounded by `timeout`, answers by `max_bytes`.
    pub fn new(api: Api, timeout: Duration, max_bytes: usize) -> Result<Self, String> {
        let http = crate::http::client(timeout)
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Self {
            http,
            api,
            max_bytes,
        })
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.api.key.is_empty() {
            true => req,
            false => req.bearer_auth(self.api.key.expose()),
        }
    }

    /// The words of an Ogg/Opus voice note (`POST /audio/transcriptions`, JSON answer).
    pub async fn transcribe(&self, ogg: Vec<u8>) -> Result<String, HandlerError> {
        let file = reqwest::multipart::Part::bytes(ogg)
            .file_name("voice.ogg")
            .mime_str("audio/ogg")
            .map_err(|e| HandlerError::permanent(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .part("file", file)
            .text("model", self.api.model.clone())
            .text("response_format", "json");
        let url = format!("{}/audio/transcriptions", self.api.url);
        let req = self.auth(self.http.post(url).multipart(form));
        let resp = req.timed("stt").await.map_err(|e| unanswered("stt", e))?;
        let body = self.read(success(resp, "stt").await?);
        let body =
            crate::telemetry::hops::part(crate::telemetry::hops::Part::Outside, body).await?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| HandlerError::permanent(format!("stt answer is not JSON: {e}")))?;
        // A garbled answer is not paid for again: the note is reported unheard.
        let text = v["text"]
            .as_str()
            .ok_or_else(|| HandlerError::permanent("stt answer has no text"))?;
        Ok(text.trim().to_owned())
    }

    /// `text` spoken in `voice` (`POST /audio/speech`, `response_format: opus`): the bytes as
    /// the server sent them (Ogg/Opus when it honours the format; check with
    /// [`ogg::check_opus`]).
    pub async fn speak(&self, text: &str, voice: &str) -> Result<Vec<u8>, HandlerError> {
        let body = json!({"model": self.api.model, "input": text, "voice": voice,
                          "response_format": "opus"});
        let url = format!("{}/audio/speech", self.api.url);
        let req = self.auth(self.http.post(url).json(&body));
        let resp = req.timed("tts").await.map_err(|e| unanswered("tts", e))?;
        let body = self.read(success(resp, "tts").await?);
        crate::telemetry::hops::part(crate::telemetry::hops::Part::Outside, body).await
    }

    /// A body of at most `max_bytes` (a larger one is refused for good).
    async fn read(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, HandlerError> {
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| unanswered("audio", e))? {
            out.extend_from_slice(&chunk);
            if out.len() > self.max_bytes {
                let why = format!("audio answer larger than {} bytes", self.max_bytes);
                return Err(HandlerError::permanent(why));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_urls_there_is_no_voice_and_bad_limits_are_refused() {
        let mut env = Env::from_pairs(&[]);
        let s = VoiceSettings::read(&mut env);
        assert!(s.stt.is_none() && s.tts.is_none());
        assert!(env.finish().is_ok());
        let mut env = Env::from_pairs(&[
            ("STT_API_URL", "http://127.0.0.1:9/v1/"),
            ("TTS_API_URL", "ftp://x"),
            ("VOICE_MAX_BYTES", "10"),
            ("TTS_MAX_CHARS", "abc"),
        ]);
        let s = VoiceSettings::read(&mut env);
        assert_eq!(s.stt.unwrap().url, "http://127.0.0.1:9/v1");
        let err = env.finish().unwrap_err().to_string();
        for needle in ["TTS_API_URL", "VOICE_MAX_BYTES", "TTS_MAX_CHARS"] {
            assert!(err.contains(needle), "{needle} missing from {err}");
        }
    }
}
