//! Voice notes as effects: spoken bytes uploaded (`sendVoice` for Ogg/Opus, which Telegram
//! shows as a voice bubble; `sendAudio` for any other audio, shown as a file), or a note
//! Telegram already has, sent again by its `file_id` (kept from the first send's answer).

use serde_json::json;
use uuid::Uuid;

use super::Decision;

impl Decision {
    /// Audio bytes as a voice note (`ogg_opus`) or an audio file, with effect id `id`
    /// (derived from the job, so a redelivery writes the same row).
    pub fn voice_as(&mut self, id: Uuid, chat_id: i64, bytes: Vec<u8>, ogg_opus: bool) -> Uuid {
        let method = if ogg_opus { "sendVoice" } else { "sendAudio" };
        self.push_as(id, chat_id, method, json!({"chat_id": chat_id}), true);
        if let Some(last) = self.effects.last_mut() {
            last.blob = Some(bytes);
        }
        id
    }

    /// A voice note (or, `audio`, an audio file) Telegram already has, by its `file_id`, with
    /// effect id `id`: sent again with the method it went out with (a file id of one kind is
    /// refused by the other).
    pub fn voice_by_id(&mut self, id: Uuid, chat_id: i64, file_id: &str, audio: bool) -> Uuid {
        let (method, field) = match audio {
            true => ("sendAudio", "audio"),
            false => ("sendVoice", "voice"),
        };
        let params = json!({"chat_id": chat_id, field: file_id});
        self.push_as(id, chat_id, method, params, true)
    }
}
