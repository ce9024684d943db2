//! The happy path: /start, 18+ confirmation, persona, a text answered by the LLM, a photo.

use standins::llm::answer_for;
use standins::system::{System, buttons_of, shows_text, text_of};

use crate::helpers::{Chat, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_persona_text_and_photo_reach_the_user() {
    let sys = System::start("conversation", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5001);
    let greeting = chat.open_dialog().await;
    assert!(
        text_of(&greeting).contains("Ann"),
        "greeting addresses the user: {}",
        text_of(&greeting)
    );

    let since = sys.tg.calls().len();
    chat.say("I just got back from the beach").await;
    let expected = answer_for("I just got back from the beach");
    let reply = chat.expect_message(since, |c| text_of(c) == expected).await;
    let photo_button = buttons_of(&reply)
        .into_iter()
        .find(|b| b.starts_with("photo:"))
        .expect("photo button");

    // The LLM saw the card's system prompt (adults only, example dialogue; no creator notes),
    // the greeting, the user's words, and then the card's post-history instructions.
    let request = sys.llm.requests().last().cloned().unwrap();
    let messages = request["messages"].as_array().unwrap();
    let system = messages[0]["content"].as_str().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(
        system.starts_with("You are Stacy, texting with Ann"),
        "{system}"
    );
    assert!(system.contains("Every character in this conversation is an adult. Stacy is 19"));
    assert!(system.contains("Examples of how Stacy writes:") && !system.contains("original bot"));
    let n = messages.len();
    assert_eq!(messages[1]["role"], "assistant", "the greeting");
    assert_eq!(messages[n - 2]["content"], "I just got back from the beach");
    assert_eq!(messages[n - 1]["role"], "system");
    assert!(
        messages[n - 1]["content"]
            .as_str()
            .unwrap()
            .starts_with("Reply as Stacy"),
        "post-history instructions close the prompt: {:?}",
        messages[n - 1]
    );
    assert_eq!(
        request["venice_parameters"]["include_venice_system_prompt"],
        false
    );

    let since = sys.tg.calls().len();
    chat.press(&reply, &photo_button).await;
    let photo = sys
        .wait_call(since, STEP, |c| c.method == "sendphoto")
        .await
        .unwrap();
    assert_eq!(photo.params["chat_id"], chat.user.id);
    let path = photo.params["photo"]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("{photo:?}"));
    let png = std::fs::read(path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let img = image::load_from_memory(&png).expect("a decodable PNG");
    assert_eq!((img.width(), img.height()), (512, 768));

    // The image prompt follows the scene the model set, and is safe.
    let req = sys.image.requests().last().cloned().unwrap();
    let prompt = req["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("adult") && prompt.contains("quiet café"),
        "{prompt}"
    );
    assert!(
        req["negative_prompt"]
            .as_str()
            .unwrap()
            .contains("underage")
    );

    // Stored: user + assistant rows, a photo row with its Telegram message id, retention.
    let pool = sys.pool().await.unwrap();
    let (users, assistants): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE role = 'user'), count(*) FILTER (WHERE role = 'assistant') FROM chat_messages",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (users, assistants),
        (1, 2),
        "greeting and answer are assistant rows"
    );
    let (state, sent): (String, Option<i64>) = sqlx::query_as(
        "SELECT e.state, e.telegram_message_id FROM photos p JOIN effects e ON e.id = p.effect_id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(state, "sent");
    assert!(
        sent.is_some(),
        "the photo's Telegram message id is recorded"
    );
    let (messages, photos): (i32, i32) = sqlx::query_as(
        "SELECT total_messages, total_photos FROM user_retention WHERE user_id = $1",
    )
    .bind(chat.user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((messages, photos), (1, 1));

    // Job status in KV: both jobs (reply, photo) ended COMPLETED.
    let jobs: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT job_id FROM outbox WHERE subject IN ('jobs.reply', 'jobs.prompt')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(jobs.len(), 2);
    let kv = sys
        .js()
        .await
        .unwrap()
        .get_key_value(runtime::nats::topology::JOBS_BUCKET)
        .await
        .unwrap();
    // Status is written off the critical path: it settles a moment after the send, and stays.
    for id in jobs {
        let kv = kv.clone();
        let status = standins::harness::wait_for("COMPLETED status", STEP, || {
            let kv = kv.clone();
            async move {
                let raw = kv.get(id.simple().to_string()).await.ok()??;
                let status: runtime::nats::jobs::JobStatus = serde_json::from_slice(&raw).ok()?;
                (status.state == runtime::nats::jobs::JobState::Completed).then_some(status)
            }
        })
        .await;
        assert!(status.is_ok(), "{id}: {status:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_happens_before_the_age_confirmation_and_stickers_get_a_friendly_answer() {
    let sys = System::start("age-gate", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5002);
    let since = sys.tg.calls().len();
    chat.say("hello?").await;
    chat.expect_message(since, |c| {
        text_of(c)
            == companion::locale::t(companion::locale::Lang::En, companion::locale::T::AgeGate)
    })
    .await;
    let since = sys.tg.calls().len();
    let u = standins::updates::sticker(sys.tg.next_update_id(), 99, &chat.user);
    assert_eq!(sys.post_update(&u).await, 200);
    chat.expect_message(since, |c| {
        text_of(c)
            == companion::locale::t(
                companion::locale::Lang::En,
                companion::locale::T::Unsupported,
            )
    })
    .await;
    crate::helpers::settle(&sys).await;
    assert!(
        sys.llm.requests().is_empty(),
        "no conversation before 18+ confirmation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_quick_messages_are_answered_in_order_each_seeing_the_last_answer() {
    let sys = System::start("ordering", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5003);
    chat.open_dialog().await;
    // The first answer is slow: the second message must still be answered after it.
    sys.llm.push(vec![standins::script::Step {
        status: 200,
        delay_ms: 1500,
        ..Default::default()
    }]);
    let since = sys.tg.calls().len();
    chat.say("first").await;
    chat.say("second").await;
    let second = chat
        .expect_message(since, |c| text_of(c) == answer_for("second"))
        .await;
    let first = chat
        .expect_message(since, |c| text_of(c) == answer_for("first"))
        .await;
    assert!(
        first.seq < second.seq,
        "answers arrive in the order of the messages"
    );
    let last = sys.llm.requests().last().cloned().unwrap();
    let contents: Vec<&str> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "system")
        .filter_map(|m| m["content"].as_str())
        .collect();
    let tail = &contents[contents.len() - 3..];
    assert_eq!(
        tail,
        ["first", &answer_for("first"), "second"],
        "the second call sees the first answer"
    );
    assert_eq!(
        stored_user_texts(&sys).await,
        ["first", "second"],
        "stored in the order sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_messages_stay_in_order_with_two_copies_of_fn_updates() {
    let sys = System::start("ordering-two-copies", &[]).await.unwrap();
    sys.start_copy("fn-updates", "fn-updates-2", &[])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 5004);
    chat.open_dialog().await;
    let texts: Vec<String> = (1..=8).map(|i| format!("quick {i}")).collect();
    let since = sys.tg.calls().len();
    for t in &texts {
        chat.say(t).await;
    }
    chat.expect_message(since, |c| text_of(c) == answer_for("quick 8"))
        .await;
    assert_eq!(
        stored_user_texts(&sys).await,
        texts,
        "stored in the order sent"
    );
    let answers: Vec<String> = sys
        .tg
        .calls()
        .into_iter()
        .filter(|c| shows_text(c) && !c.result.is_null())
        .filter(|c| text_of(c).starts_with("I love hearing that: \"quick"))
        .map(|c| text_of(&c).to_owned())
        .collect();
    let expected: Vec<String> = texts.iter().map(|t| answer_for(t)).collect();
    assert_eq!(answers, expected, "answered once each, in order");
}

/// The users' messages as stored, in storage order.
async fn stored_user_texts(sys: &System) -> Vec<String> {
    let pool = sys.pool().await.unwrap();
    sqlx::query_scalar("SELECT content FROM chat_messages WHERE role = 'user' ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap()
}

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
async fn a_message_over_the_limit_gets_a_note_naming_it_and_no_llm_call() {
    let sys = System::start("too-long", &[("MAX_MESSAGE_CHARS", "50")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 5201);
    chat.open_dialog().await;
    let (since, asked) = (sys.tg.calls().len(), sys.llm.requests().len());
    chat.say(&"ж".repeat(51)).await;
    let note = chat
        .expect_message(since, |c| text_of(c).contains("too long"))
        .await;
    assert!(
        text_of(&note).contains("up to 50 characters"),
        "{}",
        text_of(&note)
    );
    chat.say(&"ж".repeat(50)).await;
    chat.expect_message(since, |c| text_of(c) == answer_for(&"ж".repeat(50)))
        .await;
    assert_eq!(
        sys.llm.requests().len(),
        asked + 1,
        "only the message within the limit"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_rate_hears_once_and_the_rest_goes_unanswered() {
    // A budget of eight texts: /start, 18+ and the persona cost five, three texts remain.
    let sys = System::start("rate", &[("MESSAGES_PER_MINUTE", "8")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 5501);
    chat.open_dialog().await;
    let (since, asked) = (sys.tg.calls().len(), sys.llm.requests().len());
    for i in 0..6 {
        chat.say(&format!("quick {i}")).await;
    }
    chat.expect_message(since, |c| text_of(c) == answer_for("quick 2"))
        .await;
    let note = chat
        .expect_message(since, |c| text_of(c).starts_with("You're writing faster"))
        .await;
    // Give any wrongly accepted message time to be answered.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(sys.llm.requests().len(), asked + 3, "three within the rate");
    let notes = sys.tg.calls()[since..]
        .iter()
        .filter(|c| text_of(c).starts_with("You're writing faster"))
        .count();
    assert_eq!(notes, 1, "one note, then silence: {}", text_of(&note));
    for i in 3..6 {
        assert_eq!(chat.count_text(&answer_for(&format!("quick {i}"))), 0);
    }
}
