//! The hot path's reply jobs as serde writes them, per language choice, with the slots filled.

use super::*;

fn sender(language: Option<&str>) -> Sender {
    Sender {
        user_id: 7,
        chat_id: 7,
        first_name: "Ann".into(),
        username: None,
        language: language.map(str::to_owned),
        message_id: Some(1),
    }
}

/// What the statement does to a job: the slots' text replaced by the ids.
fn filled(job: &str, dialog: i64, message: i64) -> Envelope<ReplyJob> {
    let json = job
        .replace(&DIALOG_SLOT.to_string(), &dialog.to_string())
        .replace(&MESSAGE_SLOT.to_string(), &message.to_string());
    serde_json::from_str(&json).unwrap()
}

#[test]
fn each_stored_choice_gets_its_language_and_no_choice_telegrams() {
    let id = Uuid::new_v4();
    let jobs = Jobs::new(id, "upd-1", &sender(Some("ru-RU")), Some("ru-RU")).unwrap();
    for lang in Lang::ALL {
        let job = jobs.by_choice[lang.code()].as_str().unwrap();
        assert_eq!(filled(job, 3, 4).payload.lang, lang);
    }
    let unchosen = filled(jobs.unchosen.as_deref().unwrap(), 3, 4);
    assert_eq!(unchosen.id, id);
    assert_eq!(unchosen.trace_id, "upd-1");
    let expected = ReplyJob {
        chat_id: 7,
        user_id: 7,
        dialog_id: 3,
        user_message_id: 4,
        lang: Lang::Ru,
        regenerate: None,
        summarize: false,
        remember: false,
        nudge: false,
        speak: None,
    };
    assert_eq!(unchosen.payload, expected);
}

#[test]
fn without_a_telegram_language_only_a_stored_choice_is_known() {
    let jobs = Jobs::new(Uuid::new_v4(), "upd-1", &sender(None), None).unwrap();
    assert_eq!(jobs.unchosen, None);
    assert_eq!(jobs.by_choice.as_object().unwrap().len(), Lang::ALL.len());
}

#[test]
fn the_code_stored_with_the_user_decides_the_second_run() {
    let jobs = Jobs::new(Uuid::new_v4(), "upd-1", &sender(None), Some("ru")).unwrap();
    let unchosen = filled(jobs.unchosen.as_deref().unwrap(), 3, 4);
    assert_eq!(unchosen.payload.lang, Lang::Ru);
    // No code ever stored: English, as for a user whose Telegram sends none.
    let jobs = Jobs::new(Uuid::new_v4(), "upd-1", &sender(None), Some("")).unwrap();
    let unchosen = filled(jobs.unchosen.as_deref().unwrap(), 3, 4);
    assert_eq!(unchosen.payload.lang, Lang::En);
}

#[test]
fn an_id_that_looks_like_a_slot_leaves_the_hot_path() {
    let mut s = sender(Some("en"));
    s.chat_id = DIALOG_SLOT;
    assert_eq!(Jobs::new(Uuid::new_v4(), "upd-1", &s, Some("en")), None);
}
