//! Message order: two quick messages are answered in the order sent, each answer seeing the
//! one before it, and a burst stays in order (stored, answered once each) with two copies of
//! fn-updates taking updates from the same stream.

use standins::llm::answer_for;
use standins::system::{System, shows_text, text_of};

use crate::helpers::Chat;

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
