//! The happy path and the gates in front of it: /start, 18+ confirmation, persona, a text
//! answered by the LLM, a photo; nothing before the age confirmation (a sticker gets a friendly
//! answer), a message over the length limit gets a note, a user over the rate hears once.
//! Message order is in `ordering`, choosing personas and greetings in `personas`.

use standins::llm::answer_for;
use standins::system::{System, buttons_of, text_of};

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
