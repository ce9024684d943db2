//! The Bot API call an effect makes: an edit of another effect's message resolved to that
//! message (or sent anew), the fields that are ours taken out, and the file it uploads.

use std::borrow::Cow;

use runtime::effects::{AVATAR_OF, EDIT_OF, OR_SEND, OURS};
use runtime::telegram::{BotApi, TgError, Upload};

use crate::store;

/// The call to make for an effect. An edit of another effect's message gets that message's id;
/// when it has none (never sent), a final edit becomes a new message and a passing one is
/// dropped (`None`).
pub fn resolve(e: &store::Effect) -> Option<(&str, Cow<'_, serde_json::Value>)> {
    let Some(of) = e.params.get(EDIT_OF) else {
        let ours = OURS.iter().any(|k| e.params.get(k).is_some());
        return Some(match ours {
            true => (
                e.method.as_str(),
                Cow::Owned(without_ours(&e.params, false)),
            ),
            false => (e.method.as_str(), Cow::Borrowed(&e.params)),
        });
    };
    let mut params = as_new_message(&e.params);
    match e.edit_target {
        Some(message_id) => {
            params["message_id"] = serde_json::json!(message_id);
            Some(("editMessageText", Cow::Owned(params)))
        }
        None if e.params[OR_SEND] == true => {
            tracing::debug!(edit_of = %of, "the message to edit never went out; sending anew");
            Some(("sendMessage", Cow::Owned(params)))
        }
        None => None,
    }
}

/// An edit's parameters as a new message's: without the message it edits.
pub fn as_new_message(params: &serde_json::Value) -> serde_json::Value {
    without_ours(params, true)
}

/// `params` without the fields that are ours, not Telegram's (and without the edited
/// message's id, `as_new`).
fn without_ours(params: &serde_json::Value, as_new: bool) -> serde_json::Value {
    let mut params = params.clone();
    if let Some(p) = params.as_object_mut() {
        for key in OURS {
            p.remove(key);
        }
        if as_new {
            p.remove("message_id");
        }
    }
    params
}

/// The file an effect uploads, if any: a document under the name its stored call gives in
/// `document` (taken out of the form fields), a voice note or audio file, a photo named by its
/// format. Only an upload
/// copies the call; a text keeps the borrowed one.
pub fn upload_of<'a>(
    e: &store::Effect,
    params: Cow<'a, serde_json::Value>,
) -> (Cow<'a, serde_json::Value>, Option<Upload>) {
    let Some(bytes) = e.blob.clone() else {
        return (params, None);
    };
    let mut params = params.into_owned();
    let (field, file_name) = match params.get("document").and_then(|v| v.as_str()) {
        Some(name) => ("document", name.to_owned()),
        None if e.method == "sendVoice" => ("voice", "voice.ogg".to_owned()),
        None if e.method == "sendAudio" => ("audio", audio_name(&bytes).to_owned()),
        None if bytes.starts_with(b"\xFF\xD8\xFF") => ("photo", "photo.jpg".to_owned()),
        None => ("photo", "photo.png".to_owned()),
    };
    if let Some(fields) = params.as_object_mut() {
        fields.remove(field);
    }
    (
        Cow::Owned(params),
        Some(Upload {
            field,
            file_name,
            bytes,
        }),
    )
}

/// A name for audio that is not Ogg/Opus, by its first bytes (Telegram reads the type from it).
fn audio_name(bytes: &[u8]) -> &'static str {
    match bytes {
        [b'I', b'D', b'3', ..] | [0xFF, 0xE0..=0xFF, ..] => "voice.mp3",
        [b'R', b'I', b'F', b'F', ..] => "voice.wav",
        [b'f', b'L', b'a', b'C', ..] => "voice.flac",
        [b'O', b'g', b'g', b'S', ..] => "voice.ogg",
        _ => "voice.m4a",
    }
}

/// A photo sent by a cached file id that Telegram refused, sent again: by the persona's
/// current file id when another send has already uploaded her avatar anew, else by uploading
/// the bytes (whose new file id is cached when the effect is marked sent). `None` when there
/// is nothing to send instead.
pub async fn upload_again(
    api: &BotApi,
    pool: &sqlx::PgPool,
    effect: uuid::Uuid,
    params: &serde_json::Value,
    stored: &serde_json::Value,
) -> Result<Option<Result<serde_json::Value, TgError>>, sqlx::Error> {
    let Some(file_id) = params.get("photo").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let girl = stored.get(AVATAR_OF).and_then(|v| v.as_i64());
    let Some((girl, png, current)) = store::avatar(pool, girl, file_id).await? else {
        return Ok(None);
    };
    let mut params = params.clone();
    if let Some(current) = current.filter(|c| c != file_id) {
        params["photo"] = serde_json::json!(current);
        return Ok(Some(api.call("sendPhoto", &params, None).await));
    }
    tracing::info!(
        girl,
        "Telegram does not know the cached avatar; uploading it again"
    );
    if let Some(p) = params.as_object_mut() {
        p.remove("photo");
    }
    let upload = Upload {
        field: "photo",
        file_name: "photo.png".to_owned(),
        bytes: png,
    };
    let outcome = api.call("sendPhoto", &params, Some(upload)).await;
    if outcome.is_ok() {
        store::avatar_uploaded(pool, girl, effect).await?;
    }
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn effect(params: serde_json::Value, edit_target: Option<i64>) -> store::Effect {
        store::Effect {
            edit_target,
            ..store::Effect::sample(params)
        }
    }

    #[test]
    fn an_edit_goes_to_its_message_or_anew_or_nowhere() {
        let edit = |last: bool| json!({"chat_id": 7, "text": "hi", EDIT_OF: "e1", OR_SEND: last});
        let plain = effect(json!({"chat_id": 7, "text": "hi"}), None);
        let (method, params) = resolve(&plain).unwrap();
        assert_eq!((method, params.as_ref()), ("sendMessage", &plain.params));
        let sent = effect(edit(false), Some(41));
        let (method, params) = resolve(&sent).unwrap();
        assert_eq!(method, "editMessageText");
        assert_eq!(
            *params,
            json!({"chat_id": 7, "text": "hi", "message_id": 41})
        );
        let unsent = effect(edit(true), None);
        let (method, params) = resolve(&unsent).unwrap();
        assert_eq!(method, "sendMessage");
        assert_eq!(*params, json!({"chat_id": 7, "text": "hi"}));
        assert!(resolve(&effect(edit(false), None)).is_none());
    }

    #[test]
    fn voice_notes_and_audio_files_upload_under_their_own_field() {
        let upload = |method: &str, bytes: &[u8]| {
            let e = store::Effect {
                method: method.into(),
                blob: Some(bytes.to_vec()),
                ..store::Effect::sample(json!({"chat_id": 7}))
            };
            let (params, up) = upload_of(&e, Cow::Owned(e.params.clone()));
            let up = up.expect("an upload");
            (params.into_owned(), up.field, up.file_name)
        };
        let (params, field, name) = upload("sendVoice", b"OggS\0\x02");
        assert_eq!((field, name.as_str()), ("voice", "voice.ogg"));
        assert_eq!(params, json!({"chat_id": 7}));
        let (_, field, name) = upload("sendAudio", b"ID3\x04rest");
        assert_eq!((field, name.as_str()), ("audio", "voice.mp3"));
        assert_eq!(upload("sendAudio", b"RIFFxxxx").2, "voice.wav");
        assert_eq!(upload("sendPhoto", b"\xFF\xD8\xFFjpeg").2, "photo.jpg");
    }
}
