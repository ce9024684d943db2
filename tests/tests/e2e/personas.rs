//! Choosing a persona: the picker shows each one with her avatar, age and pitch in the user's
//! language (avatars uploaded once, then sent by file id); choosing her again resumes her
//! latest dialog and `/new` starts another; a greeting's alternates are browsed in place and
//! the chosen one is what the model sees.

use standins::llm::answer_for;
use standins::system::{System, buttons_of, text_of};

use crate::helpers::{Chat, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picker_shows_each_persona_with_age_and_pitch_in_the_users_language() {
    let sys = System::start("picker", &[]).await.unwrap();
    for (id, lang, pitch) in [
        (5101, "en", "Stacy, 19 — Design student"),
        (5102, "ru-RU", "Stacy, 19 — Студентка-дизайнер"),
    ] {
        let mut chat = Chat::new(&sys, id);
        chat.user = chat.user.clone().speaking(lang);
        chat.open_dialog().await;
        // One photo per persona: her avatar, name, age and pitch, and a button.
        let photos: Vec<_> = sys
            .tg
            .calls_of("sendphoto")
            .into_iter()
            .filter(|c| c.params["chat_id"] == id)
            .collect();
        assert_eq!(photos.len(), 5, "{lang}");
        let captions: Vec<&str> = photos
            .iter()
            .map(|c| c.params["caption"].as_str().unwrap())
            .collect();
        assert!(captions[0].starts_with(pitch), "{lang}: {captions:?}");
        let names: Vec<&str> = captions
            .iter()
            .map(|c| c.split(',').next().unwrap())
            .collect();
        assert_eq!(
            names[..3],
            ["Stacy", "Amanda", "Jane"],
            "the seed's three first"
        );
        for p in &photos {
            let b = buttons_of(p);
            assert!(b.len() == 1 && b[0].starts_with("persona:"), "{b:?}");
        }
        // The first user's picker uploaded the avatars; the next one sends them by file id.
        let uploaded = photos.iter().all(|p| p.params["photo"].is_object());
        let by_id = photos.iter().all(|p| p.params["photo"].is_string());
        assert!(
            if lang == "en" { uploaded } else { by_id },
            "{lang}: {:?}",
            photos[0].params["photo"]
        );
        let menu = sys
            .tg
            .calls_of("sendmessage")
            .into_iter()
            .find(|c| c.params["chat_id"] == id && buttons_of(c).contains(&"chats:0".to_owned()))
            .expect("the choices again, with My chats");
        let buttons = buttons_of(&menu);
        assert_eq!(buttons.len(), 6, "one button per persona, then My chats");
        assert_eq!(buttons[5], "chats:0");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_a_persona_again_resumes_her_latest_dialog_and_new_starts_another() {
    let sys = System::start("dialogs", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5301);
    chat.open_dialog().await;
    let since = sys.tg.calls().len();
    chat.say("one").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("one"))
        .await;

    // Another persona: a new dialog with her greeting.
    let pick = |name: &'static str| {
        let chat = &chat;
        async move {
            let since = chat.sys.tg.calls().len();
            chat.say("/persona").await;
            let menu = chat
                .expect_message(since, |c| buttons_of(c).contains(&"chats:0".to_owned()))
                .await;
            let names = ["Stacy", "Amanda", "Jane"];
            let i = names.iter().position(|n| *n == name).unwrap();
            let since = chat.sys.tg.calls().len();
            chat.press(&menu, &buttons_of(&menu)[i]).await;
            chat.expect_message(since, |c| {
                buttons_of(c).iter().any(|b| b.starts_with("photo:"))
            })
            .await
        }
    };
    let amanda = pick("Amanda").await;
    assert!(
        text_of(&amanda).contains("neighbour"),
        "{}",
        text_of(&amanda)
    );

    // Back to Stacy: the same dialog, with what was said.
    let back = pick("Stacy").await;
    let text = text_of(&back);
    assert!(
        text.contains("Your chat with Stacy continues (3 messages"),
        "{text}"
    );
    assert!(text.ends_with(&answer_for("one")), "{text}");
    let since = sys.tg.calls().len();
    chat.say("two").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("two"))
        .await;
    let history = |r: &serde_json::Value| r["messages"].to_string();
    assert!(history(sys.llm.requests().last().unwrap()).contains("\"one\""));

    // /new: a fresh dialog with Stacy, without the old history.
    let since = sys.tg.calls().len();
    chat.say("/new").await;
    chat.expect_message(since, |c| {
        buttons_of(c).iter().any(|b| b.starts_with("photo:")) && text_of(c).contains("omg hi")
    })
    .await;
    let since = sys.tg.calls().len();
    chat.say("three").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("three"))
        .await;
    let last = history(sys.llm.requests().last().unwrap());
    assert!(
        !last.contains("\"one\"") && !last.contains("\"two\""),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternate_greetings_are_browsed_in_place_and_the_chosen_one_is_kept() {
    let sys = System::start("greetings", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5401);
    let greeting = chat.open_dialog().await;
    let buttons = buttons_of(&greeting);
    assert_eq!(buttons.len(), 4, "◀ 1/3 ▶ and 📸: {buttons:?}");
    let labels: Vec<String> = greeting.params["reply_markup"]["inline_keyboard"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(labels, ["◀", "1/3", "▶"]);

    // ▶ shows the second greeting in the same message.
    let since = sys.tg.calls().len();
    chat.press(&greeting, &buttons[2]).await;
    let edit = sys
        .wait_call(since, STEP, |c| c.method == "editmessagetext")
        .await
        .unwrap();
    let second = text_of(&edit);
    assert!(second.starts_with("Ann! quick, emergency"), "{second}");
    assert_eq!(edit.params["message_id"], greeting.result["message_id"]);
    assert_eq!(
        edit.params["reply_markup"]["inline_keyboard"][0][1]["text"],
        "2/3"
    );

    // The chosen greeting is what the model sees.
    let since = sys.tg.calls().len();
    chat.say("pink, obviously").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("pink, obviously"))
        .await;
    let request = sys.llm.requests().last().cloned().unwrap();
    assert_eq!(request["messages"][1]["content"], second);

    // Once the story moved on, the greeting stays as it is.
    let since = sys.tg.calls().len();
    chat.press(&greeting, &buttons[0]).await;
    let toast = sys
        .wait_call(since, STEP, |c| c.method == "answercallbackquery")
        .await
        .unwrap();
    assert_eq!(
        toast.params["text"],
        companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::SwipeTooLate
        )
    );
    assert!(
        sys.tg.calls()[since..]
            .iter()
            .all(|c| c.method != "editmessagetext")
    );
}
