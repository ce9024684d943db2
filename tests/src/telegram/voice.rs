//! Voice in the stand-in: files a simulated user "sends" (served by `getFile` and the file
//! download route `GET /file/bot<token>/<file_path>`, as Telegram serves them), and the bot's
//! `sendVoice` / `sendAudio` (an upload, or a `file_id` the stand-in gave before), answered
//! with the `voice` / `audio` object Telegram returns. `POST /_voice` records one for the
//! terminal chat.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Telegram;

impl Telegram {
    /// A voice note the user records: its bytes kept for `getFile`; returns its `file_id` and
    /// `file_unique_id`.
    pub fn user_voice(&self, bytes: &[u8]) -> (String, String) {
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        let _ = std::fs::create_dir_all(&self.files_dir);
        let path = self.files_dir.join(format!("user-voice-{n}.oga"));
        std::fs::write(&path, bytes).expect("the stand-in writes its files");
        let id = format!("voice-in-{n}-{}", uuid::Uuid::new_v4().simple());
        let unique = format!("uq-{}", uuid::Uuid::new_v4().simple());
        let file = json!({"path": path.display().to_string(), "size": bytes.len(),
                          "file_unique_id": unique, "file_path": format!("voice/{id}.oga")});
        self.rules.lock().unwrap().remember_file(id.clone(), file);
        (id, unique)
    }
}

type Outcome = Result<Value, (u16, String, Option<u64>)>;

/// `getFile`: the file's path for the download route.
pub fn get_file(tg: &Telegram, p: &Map<String, Value>) -> Outcome {
    let id = p.get("file_id").and_then(Value::as_str).unwrap_or("");
    match tg.rules.lock().unwrap().file(id) {
        Some(f) if f["file_path"].is_string() => Ok(json!({
            "file_id": id, "file_unique_id": f["file_unique_id"], "file_size": f["size"],
            "file_path": f["file_path"]})),
        _ => Err((400, "Bad Request: invalid file_id".into(), None)),
    }
}

/// `sendVoice` (`field` "voice") or `sendAudio` ("audio"): an uploaded file or a known id.
pub fn send(
    tg: &Telegram,
    p: &Map<String, Value>,
    field: &str,
) -> Result<Value, (u16, String, Option<u64>)> {
    let file = match p.get(field) {
        Some(Value::String(id)) => match tg.rules.lock().unwrap().file(id) {
            Some(f) => f,
            None => {
                return Err((
                    400,
                    "Bad Request: wrong file identifier/HTTP URL specified".into(),
                    None,
                ));
            }
        },
        Some(file) if file.is_object() => file.clone(),
        _ => {
            return Err((
                400,
                format!("Bad Request: there is no {field} in the request"),
                None,
            ));
        }
    };
    let bytes = file["path"]
        .as_str()
        .and_then(|p| std::fs::read(p).ok())
        .unwrap_or_default();
    let duration =
        runtime::audio::ogg::check_opus(&bytes).map_or(0, |i| i.duration_ms.div_ceil(1000));
    let file_id = format!("{field}-{}", uuid::Uuid::new_v4().simple());
    tg.rules
        .lock()
        .unwrap()
        .remember_file(file_id.clone(), file.clone());
    Ok(
        json!({field: {"file_id": file_id, "file_unique_id": format!("u{file_id}"),
                     "duration": duration, "mime_type": "audio/ogg", "file_size": bytes.len()}}),
    )
}

/// `POST /_voice` `{"text"}`: the user records a voice note saying `text` (about 15
/// characters a second, as the speech stand-in hears it); answers its `file_id`,
/// `file_unique_id`, `seconds` and `size`, to put in a voice update.
pub async fn record(
    State(tg): State<Arc<Telegram>>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let text = body["text"].as_str().unwrap_or("");
    let seconds = (text.chars().count() / 15).max(1) as u32;
    let bytes = crate::audio::voice_note(text, seconds);
    let (id, unique) = tg.user_voice(&bytes);
    axum::Json(
        json!({"file_id": id, "file_unique_id": unique, "seconds": seconds,
                      "size": bytes.len()}),
    )
}

/// `GET /file/bot<token>/<file_path>`: the bytes of a file the user sent.
pub async fn download(
    State(tg): State<Arc<Telegram>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    if !bot.starts_with("bot") || !tg.rules.lock().unwrap().token_ok(&bot) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = path.trim_start_matches("voice/").trim_end_matches(".oga");
    let file = tg.rules.lock().unwrap().file(id);
    let Some(bytes) = file
        .filter(|f| f["file_path"] == path)
        .and_then(|f| std::fs::read(f["path"].as_str()?).ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    ([("content-type", "audio/ogg")], Body::from(bytes)).into_response()
}
