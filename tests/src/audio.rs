//! OpenAI-compatible speech stand-in (as faster-whisper-server, whisper.cpp's server, Venice
//! or OpenAI speak it), under `/v1`:
//! - `POST /v1/audio/transcriptions` (multipart `file`, `model`, optional `language`,
//!   `response_format`): the file must be Ogg/Opus (checked: pages, CRCs, `OpusHead`,
//!   `OpusTags`); what it "hears" is the `TEXT=` comment of its `OpusTags` (a test writes
//!   its words there), nothing when there is none. Answers `{"text": …}`.
//! - `POST /v1/audio/speech` (JSON `model`, `input`, `voice`, `response_format`): with
//!   `opus`, a real Ogg/Opus stream (`OpusHead`, `OpusTags` carrying `TEXT=<input>`, 20 ms
//!   CELT silence packets, about 15 characters a second); `mp3` (or [`Audio::mp3_only`], a
//!   server ignoring the format) gives MP3-looking bytes.
//! - `GET /_requests`: every request so far, as JSON.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use runtime::audio::ogg;
use serde_json::{Value, json};

/// A CELT-only, 20 ms, full-band mono silence frame.
pub const SILENCE: [u8; 3] = [0xF8, 0xFF, 0xFE];

/// The stand-in's state.
#[derive(Default)]
pub struct Audio {
    requests: Mutex<Vec<Value>>,
    mp3: AtomicBool,
}

impl Audio {
    /// Every request so far: `{"api": "stt"|"tts", …fields}`.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    /// Requests to one API (`stt` or `tts`).
    pub fn requests_of(&self, api: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["api"] == api)
            .collect()
    }

    /// Answer speech as MP3 whatever format is asked (a server that ignores it).
    pub fn mp3_only(&self, on: bool) {
        self.mp3.store(on, Ordering::Relaxed);
    }
}

/// A voice note saying `text`: Ogg/Opus whose `OpusTags` carry it (what the stand-in hears).
pub fn voice_note(text: &str, seconds: u32) -> Vec<u8> {
    ogg::write_opus(&[format!("TEXT={text}")], seconds as usize * 50, &SILENCE)
}

/// The router.
pub fn router(audio: Arc<Audio>) -> Router {
    Router::new()
        .route("/v1/audio/transcriptions", post(transcriptions))
        .route("/v1/audio/speech", post(speech))
        .route(
            "/_requests",
            get(|State(a): State<Arc<Audio>>| async move { Json(a.requests()) }),
        )
        .with_state(audio)
}

fn bad(why: &str) -> Response {
    let body = json!({"error": {"message": why, "type": "invalid_request_error"}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn transcriptions(State(a): State<Arc<Audio>>, mut form: Multipart) -> Response {
    let (mut file, mut model) = (None, None);
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(bytes) = field.bytes().await else {
            return bad("unreadable multipart body");
        };
        match name.as_str() {
            "file" => file = Some(bytes),
            "model" => model = Some(String::from_utf8_lossy(&bytes).into_owned()),
            _ => {}
        }
    }
    let (Some(file), Some(model)) = (file, model.filter(|m| !m.is_empty())) else {
        return bad("file and model are required");
    };
    let info = match ogg::check_opus(&file) {
        Ok(i) => i,
        Err(e) => return bad(&format!("the file is not Ogg/Opus: {e}")),
    };
    let text = info
        .comments
        .iter()
        .find_map(|c| c.strip_prefix("TEXT="))
        .unwrap_or("")
        .to_owned();
    a.requests
        .lock()
        .unwrap()
        .push(json!({"api": "stt", "model": model,
        "bytes": file.len(), "duration_ms": info.duration_ms, "text": text}));
    Json(json!({"text": text})).into_response()
}

async fn speech(State(a): State<Arc<Audio>>, Json(req): Json<Value>) -> Response {
    let input = req["input"].as_str().unwrap_or("");
    let model = req["model"].as_str().unwrap_or("");
    let voice = req["voice"].as_str().unwrap_or("");
    let format = req["response_format"].as_str().unwrap_or("mp3");
    if model.is_empty() || voice.is_empty() || input.trim().is_empty() {
        return bad("model, voice and input are required");
    }
    if input.chars().count() > 4096 {
        return bad("input is longer than 4096 characters");
    }
    if !["mp3", "opus", "aac", "flac", "wav", "pcm"].contains(&format) {
        return bad("unknown response_format");
    }
    a.requests
        .lock()
        .unwrap()
        .push(json!({"api": "tts", "model": model, "voice": voice,
        "input": input, "response_format": format}));
    if format != "opus" || a.mp3.load(Ordering::Relaxed) {
        let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
        mp3.extend(std::iter::repeat_n(0xFFu8, 64));
        return ([("content-type", "audio/mpeg")], mp3).into_response();
    }
    let frames = input.chars().count() * 10 / 3 + 1;
    let bytes = ogg::write_opus(&[format!("TEXT={input}")], frames, &SILENCE);
    ([("content-type", "audio/ogg")], bytes).into_response()
}
