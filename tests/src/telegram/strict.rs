//! The stand-in's checks of the calls whose every field Telegram validates: the command
//! menu (`setMyCommands`), callback answers, chat actions, button data, and documents.
//! Each refusal is in Telegram's words.

use serde_json::{Map, Value};

use super::refusal::{Refusal, bad};

/// The actions `sendChatAction` takes.
const ACTIONS: [&str; 10] = [
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
];

/// Refuses what Telegram refuses in these methods' fields; `Ok` for the others.
pub fn check(method: &str, p: &Map<String, Value>) -> Result<(), Refusal> {
    buttons(p)?;
    match method {
        "setmycommands" => commands(p),
        "answercallbackquery" => {
            let text = p.get("text").and_then(Value::as_str).unwrap_or("");
            if text.encode_utf16().count() > 200 {
                return Err(bad("MESSAGE_TOO_LONG"));
            }
            Ok(())
        }
        "sendchataction" => {
            let action = p.get("action").and_then(Value::as_str).unwrap_or("");
            match ACTIONS.contains(&action) {
                true => Ok(()),
                false => Err(bad("wrong parameter action in request")),
            }
        }
        "senddocument" => {
            let caption = p.get("caption").and_then(Value::as_str).unwrap_or("");
            if caption.encode_utf16().count() > 1024 {
                return Err(bad("message caption is too long"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `callback_data` must be 1-64 bytes.
fn buttons(p: &Map<String, Value>) -> Result<(), Refusal> {
    let empty = p
        .get("reply_markup")
        .and_then(|m| m["inline_keyboard"].as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|b| b["callback_data"].as_str() == Some(""));
    match empty {
        true => Err(bad("BUTTON_DATA_INVALID")),
        false => Ok(()),
    }
}

/// At most 100 commands, each 1-32 of a-z 0-9 _, with a description of 1-256 characters.
fn commands(p: &Map<String, Value>) -> Result<(), Refusal> {
    let Some(list) = p.get("commands").and_then(Value::as_array) else {
        return Err(bad("parameter \"commands\" is required"));
    };
    if list.len() > 100 {
        return Err(bad("too many commands specified"));
    }
    for c in list {
        let name = c["command"].as_str().unwrap_or("");
        let ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(bad("BOT_COMMAND_INVALID"));
        }
        let description = c["description"].as_str().unwrap_or("").trim();
        if !(1..=256).contains(&description.chars().count()) {
            return Err(bad("BOT_COMMAND_DESCRIPTION_INVALID"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn refuses_what_telegram_refuses() {
        let ok = json!({"commands": [{"command": "start", "description": "Start"}]});
        assert!(check("setmycommands", &map(ok)).is_ok());
        for bad_menu in [
            json!({"commands": [{"command": "Start", "description": "x"}]}),
            json!({"commands": [{"command": "start", "description": ""}]}),
            json!({"commands": [{"command": "a".repeat(33), "description": "x"}]}),
        ] {
            assert!(check("setmycommands", &map(bad_menu)).is_err());
        }
        let long = json!({"callback_query_id": "1", "text": "x".repeat(201)});
        assert!(check("answercallbackquery", &map(long)).is_err());
        assert!(check("sendchataction", &map(json!({"action": "typing"}))).is_ok());
        assert!(check("sendchataction", &map(json!({"action": "thinking"}))).is_err());
        let empty =
            json!({"reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": ""}]]}});
        assert!(check("sendmessage", &map(empty)).is_err());
    }
}
