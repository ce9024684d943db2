//! Answers under pressure from the user: a Russian speaker hears Russian throughout and can
//! switch with /lang, ⏹ keeps the text so far, an edited last message gets a new answer (an
//! older one only changes what is stored), and an answer that repeats a recent one is written
//! once more, warmer.

use companion::locale::{Lang, T, t};
use standins::llm::answer_for;
use standins::script::Step;
use standins::system::{System, buttons_of, labels_of, text_of};
use standins::updates::User;

use crate::helpers::{Chat, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_russian_speaker_hears_russian_and_can_switch_to_english() {
    let sys = System::start("russian", &[]).await.unwrap();
    let chat = Chat::as_user(&sys, User::new(5501, "Аня").speaking("ru"));
    let gate = chat
        .ask("/start", |c| buttons_of(c).contains(&"age:yes".to_owned()))
        .await;
    assert!(text_of(&gate).starts_with(t(Lang::Ru, T::Welcome)));
    assert!(text_of(&gate).contains(t(Lang::Ru, T::AgeGate)));
    assert_eq!(
        labels_of(&gate),
        [
            t(Lang::Ru, T::AgeConfirmButton),
            t(Lang::Ru, T::AgeDeclineButton)
        ]
    );
    // Someone under 18 is told goodbye politely, and nothing opens for them.
    let minor = Chat::as_user(&sys, User::new(5599, "Петя").speaking("ru"));
    let since0 = sys.tg.calls().len();
    minor.say("/start").await;
    let their_gate = minor
        .expect_message(since0, |c| buttons_of(c).contains(&"age:no".to_owned()))
        .await;
    let since0 = sys.tg.calls().len();
    minor.press(&their_gate, "age:no").await;
    minor
        .expect_message(since0, |c| text_of(c) == t(Lang::Ru, T::AgeDeclined))
        .await;
    let since0 = sys.tg.calls().len();
    minor.say("привет").await;
    minor
        .expect_message(since0, |c| text_of(c) == t(Lang::Ru, T::AgeGate))
        .await;
    let since = sys.tg.calls().len();
    chat.press(&gate, "age:yes").await;
    let menu = chat
        .expect_message(since, |c| {
            buttons_of(c).iter().any(|b| b.starts_with("persona:"))
        })
        .await;
    assert!(text_of(&menu).starts_with(t(Lang::Ru, T::AgeConfirmed)));
    assert_eq!(
        labels_of(&menu).last().unwrap(),
        t(Lang::Ru, T::ChatsButton)
    );
    let since = sys.tg.calls().len();
    chat.press(&menu, &buttons_of(&menu)[0]).await;
    let greeting = chat
        .expect_message(since, |c| {
            buttons_of(c).iter().any(|b| b.starts_with("photo:"))
        })
        .await;
    assert!(labels_of(&greeting).contains(&"📸 Фото".to_owned()));

    let reply = chat
        .ask("Привет! Как дела?", |c| {
            text_of(c) == answer_for("Привет! Как дела?")
        })
        .await;
    assert_eq!(labels_of(&reply), ["🔄", "📸 Фото"]);
    // An update without Telegram's language code: the code stored with her decides.
    let quiet = Chat::as_user(&sys, User::new(5501, "Аня").speaking(""));
    let again = quiet
        .ask("А ты?", |c| text_of(c) == answer_for("А ты?"))
        .await;
    assert_eq!(labels_of(&again), ["🔄", "📸 Фото"]);
    let request = sys.llm.requests().last().cloned().unwrap();
    let system = request["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Отвечай по-русски"), "{system}");
    let pool = sys.pool().await.unwrap();
    let nsfw = || async {
        sqlx::query_scalar::<_, bool>("SELECT nsfw_enabled FROM dialogs")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(!nsfw().await);
    chat.ask("Нет, никакого секса сегодня", |c| {
        text_of(c) == answer_for("Нет, никакого секса сегодня")
    })
    .await;
    assert!(!nsfw().await, "a negated cue");
    chat.ask("Давай займёмся любовью", |c| {
        text_of(c) == answer_for("Давай займёмся любовью")
    })
    .await;
    assert!(nsfw().await, "the conversation became adult");

    chat.ask("/help", |c| text_of(c) == t(Lang::Ru, T::Help))
        .await;
    let choose = chat
        .ask("/lang", |c| text_of(c) == t(Lang::Ru, T::LangChoose))
        .await;
    let since = sys.tg.calls().len();
    chat.press(&choose, "lang:en").await;
    chat.expect_message(since, |c| text_of(c) == t(Lang::En, T::LangSet))
        .await;
    chat.ask("/help", |c| text_of(c) == t(Lang::En, T::Help))
        .await;
    let reply = chat
        .ask("And now?", |c| text_of(c) == answer_for("And now?"))
        .await;
    assert_eq!(
        labels_of(&reply),
        ["🔄", "📸 Photo"],
        "the chosen language wins"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_keeps_the_text_so_far_and_edits_and_repeats_get_new_answers() {
    let sys = System::start("answers", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5502);
    let pool = sys.pool().await.unwrap();
    chat.open_dialog().await;

    // ⏹ while the answer streams: what was shown is the answer.
    let long: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
    let (_, draft) = chat
        .slow_answer("tell me a long story", &long.join(" "), 200)
        .await;
    let stop = buttons_of(&draft)[0].clone();
    let since = sys.tg.calls().len();
    chat.press(&draft, &stop).await;
    let toast = chat
        .expect_call(since, |c| c.method == "answercallbackquery")
        .await;
    assert_eq!(toast.params["text"], t(Lang::En, T::Stopped));
    let id = draft.result["message_id"].as_i64().unwrap();
    let last = chat
        .expect_call(since, |c| {
            c.method == "editmessagetext"
                && c.params["message_id"] == id
                && buttons_of(c).iter().any(|b| b.starts_with("re:"))
        })
        .await;
    let kept = text_of(&last);
    assert!(
        long.join(" ").starts_with(kept) && kept.len() < long.join(" ").len(),
        "{kept}"
    );
    let stored: String = sqlx::query_scalar(
        "SELECT content FROM chat_messages WHERE role = 'assistant' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, kept);

    // Editing the last message: the edited text gets a new answer (a second version).
    let since = sys.tg.calls().len();
    let said = chat.say("I like tea").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("I like tea"))
        .await;
    let tea = said["message"]["message_id"].as_i64().unwrap();
    let since = sys.tg.calls().len();
    chat.edit(tea, "I like coffee").await;
    let again = chat
        .expect_message(since, |c| text_of(c) == answer_for("I like coffee"))
        .await;
    assert_eq!(labels_of(&again)[1], "2/2");
    // Editing an older message only changes what is stored.
    chat.turn("and cake").await;
    let asked = sys.llm.requests().len();
    chat.edit(tea, "I like cocoa").await;
    settle(&sys).await;
    assert_eq!(
        sys.llm.requests().len(),
        asked,
        "no answer for an older edit"
    );
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE content = 'I like cocoa'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(n, 1);

    // The same long answer twice: written once more with penalties, and that one is sent.
    let same =
        "You know, I keep thinking about that little bakery near the station with the blue door.";
    let plain = |c: &str| Step {
        content: Some(c.to_owned()),
        ..Default::default()
    };
    sys.llm.push(vec![plain(same), plain(same)]);
    chat.ask("where shall we go", |c| text_of(c) == same).await;
    let asked = sys.llm.requests().len();
    chat.turn("somewhere else?").await;
    let requests = sys.llm.requests();
    assert_eq!(requests.len(), asked + 2, "written once more");
    assert_eq!(requests[asked]["frequency_penalty"], 0.0);
    assert!(requests[asked + 1]["frequency_penalty"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialog_longer_than_the_budget_keeps_its_story_in_a_rolling_summary() {
    // A budget so small that only the last exchange fits beside the persona's prompt.
    let sys = System::start("summary", &[("CONTEXT_TOKENS", "1")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 5503);
    let pool = sys.pool().await.unwrap();
    chat.open_dialog().await;
    for i in 0..10 {
        chat.turn(&format!("turn {i}")).await;
    }
    let upto: i64 = standins::harness::wait_for("the summary", crate::helpers::STEP, || {
        let pool = pool.clone();
        async move {
            let upto: i64 = sqlx::query_scalar("SELECT summary_upto FROM dialogs LIMIT 1")
                .fetch_one(&pool)
                .await
                .ok()?;
            (upto > 0).then_some(upto)
        }
    })
    .await
    .unwrap();
    let asked = sys.llm.requests();
    let fold = asked
        .iter()
        .find(|r| {
            r["messages"][0]["content"]
                .as_str()
                .unwrap()
                .contains("memory of a long")
        })
        .expect("a summarisation request");
    assert!(
        fold["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("User: turn 0")
    );

    chat.turn("turn 10").await;
    let request = sys.llm.requests().last().cloned().unwrap();
    let m = request["messages"].as_array().unwrap();
    let content = |i: usize| m[i]["content"].as_str().unwrap();
    assert!(
        content(0).starts_with("You are Stacy"),
        "system prompt first"
    );
    assert!(
        content(1).starts_with("The story so far"),
        "then the summary: {}",
        content(1)
    );
    assert!(
        content(1).contains("turn 0"),
        "the summary keeps the start of the story"
    );
    assert_eq!(
        m[m.len() - 2]["content"],
        "turn 10",
        "then the last exchange"
    );
    assert!(
        content(m.len() - 1).starts_with("Reply as Stacy"),
        "post-history last"
    );
    assert_eq!(m.len(), 4, "nothing else fits the budget");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM chat_messages ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        ids.iter().filter(|id| **id <= upto).count() >= 9,
        "older messages folded"
    );
}
