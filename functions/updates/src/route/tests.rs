//! Unit tests of update routing against real Bot API update shapes.

use super::*;

fn parse(json: &str) -> Option<(Sender, Action)> {
    let u: TgUpdate = serde_json::from_str(json).expect("valid update");
    route(&u.0)
}

fn message(text: &str) -> String {
    format!(
        r#"{{"update_id":10,"message":{{"message_id":1,"date":1700000000,
        "chat":{{"id":77,"type":"private","first_name":"Ann"}},
        "from":{{"id":77,"is_bot":false,"first_name":"Ann","language_code":"en"}},"text":{text:?}}}}}"#
    )
}

fn callback(data: &str) -> String {
    format!(
        r#"{{"update_id":11,"callback_query":{{"id":"cb1","chat_instance":"x",
        "from":{{"id":77,"is_bot":false,"first_name":"Ann"}},"data":{data:?}}}}}"#
    )
}

#[test]
fn commands_are_recognised_with_bot_suffix_and_payload() {
    assert_eq!(parse(&message("/start")).unwrap().1, Action::Start);
    assert_eq!(
        parse(&message("/start@MyBot ref123")).unwrap().1,
        Action::Start
    );
    assert_eq!(
        parse(&message("/photo")).unwrap().1,
        Action::Photo {
            dialog_id: None,
            callback: None,
            shown: None,
            wish: None,
        }
    );
    assert_eq!(
        parse(&message("/photo  in a red dress ")).unwrap().1,
        Action::Photo {
            dialog_id: None,
            callback: None,
            shown: None,
            wish: Some("in a red dress".into()),
        }
    );
    assert_eq!(parse(&message("/nope")).unwrap().1, Action::UnknownCommand);
    assert_eq!(parse(&message("/new")).unwrap().1, Action::NewDialog);
    assert_eq!(parse(&message("/Persona")).unwrap().1, Action::Personas);
    assert_eq!(parse(&message("/help")).unwrap().1, Action::Help);
}

#[test]
fn texts_carry_sender_details() {
    let (s, a) = parse(&message("hello there")).unwrap();
    assert_eq!(a, Action::Text("hello there".into()));
    assert_eq!(
        (s.user_id, s.chat_id, s.first_name.as_str()),
        (77, 77, "Ann")
    );
    assert_eq!(s.language.as_deref(), Some("en"));
}

#[test]
fn buttons_map_to_actions_and_junk_is_stale() {
    assert_eq!(
        parse(&callback("age:yes")).unwrap().1,
        Action::ConfirmAge {
            callback: "cb1".into()
        }
    );
    assert_eq!(
        parse(&callback("persona:3")).unwrap().1,
        Action::ChoosePersona {
            girl_id: 3,
            callback: "cb1".into()
        }
    );
    assert_eq!(
        parse(&callback("photo:9")).unwrap().1,
        Action::Photo {
            dialog_id: Some(9),
            callback: Some("cb1".into()),
            shown: None,
            wish: None,
        }
    );
    assert_eq!(
        parse(&callback("persona:x")).unwrap().1,
        Action::StaleButton {
            callback: "cb1".into()
        }
    );
}

#[test]
fn stickers_are_unsupported_and_groups_ignored() {
    let sticker = r#"{"update_id":12,"message":{"message_id":2,"date":1700000000,
        "chat":{"id":77,"type":"private","first_name":"Ann"},
        "from":{"id":77,"is_bot":false,"first_name":"Ann"},
        "sticker":{"file_id":"f","file_unique_id":"u","type":"regular","width":1,"height":1,
                   "is_animated":false,"is_video":false}}}"#;
    assert_eq!(parse(sticker).unwrap().1, Action::Unsupported);
    let group = r#"{"update_id":13,"message":{"message_id":3,"date":1700000000,
        "chat":{"id":-5,"type":"group","title":"g"},
        "from":{"id":77,"is_bot":false,"first_name":"Ann"},"text":"hi"}}"#;
    assert!(parse(group).is_none());
}

#[test]
fn nul_characters_become_spaces_everywhere_in_the_update() {
    let json = r#"{"update_id":12,"message":{"message_id":1,"date":1700000000,
        "chat":{"id":77,"type":"private","first_name":"A\u0000nn"},
        "from":{"id":77,"is_bot":false,"first_name":"A\u0000nn"},"text":"hi\u0000 there\u0000"}}"#;
    let u = TgUpdate::decode(json.as_bytes()).expect("decoded");
    let (sender, action) = route(&u.0).expect("routed");
    assert_eq!(action, Action::Text("hi  there ".to_owned()));
    assert_eq!(sender.first_name, "A nn");
}

#[test]
fn memory_command_and_buttons_need_the_age_gate() {
    use companion::ui::memory::MemoryPress;
    let first = parse(&message("/memory")).unwrap().1;
    assert_eq!(
        first,
        Action::Memory {
            press: MemoryPress::Page(0),
            callback: None,
            shown: None,
        }
    );
    assert!(first.needs_age());
    let forget = parse(&callback("memdel:42:1")).unwrap().1;
    assert_eq!(
        forget,
        Action::Memory {
            press: MemoryPress::Forget { fact: 42, page: 1 },
            callback: Some("cb1".into()),
            shown: None,
        }
    );
    assert_eq!(forget.callback(), Some("cb1"));
    assert!(matches!(
        parse(&callback("memdel:0:1")).unwrap().1,
        Action::StaleButton { .. }
    ));
}

#[test]
fn voice_notes_and_voice_buttons_are_read() {
    use crate::route::voice::{Note, Voice};
    let note = r#"{"update_id":14,"message":{"message_id":4,"date":1700000000,
        "chat":{"id":77,"type":"private","first_name":"Ann"},
        "from":{"id":77,"is_bot":false,"first_name":"Ann"},
        "voice":{"file_id":"AwAD","file_unique_id":"AgAD","duration":7,
                 "mime_type":"audio/ogg","file_size":12345}}}"#;
    let (sender, action) = parse(note).unwrap();
    assert_eq!(sender.message_id, Some(4));
    let expected = Note {
        file_id: "AwAD".into(),
        unique_id: "AgAD".into(),
        seconds: 7,
        bytes: Some(12345),
    };
    assert_eq!(action, Action::Voice(Voice::Note(expected)));
    assert!(action.needs_age() && action.callback().is_none());
    let sizeless = note.replace(",\"file_size\":12345", "");
    match parse(&sizeless).unwrap().1 {
        Action::Voice(Voice::Note(n)) => assert_eq!(n.bytes, None),
        other => panic!("{other:?}"),
    }
    let speak = parse(&callback("vo:5:1")).unwrap().1;
    assert_eq!(
        speak,
        Action::Voice(Voice::Speak {
            message_id: 5,
            index: 1,
            callback: "cb1".into()
        })
    );
    assert_eq!(speak.callback(), Some("cb1"));
    let toggle = parse(&callback("va:on")).unwrap().1;
    assert!(!toggle.needs_age(), "settings are open before the 18+ gate");
    assert!(matches!(command("/settings"), Action::Settings { .. }));
}
