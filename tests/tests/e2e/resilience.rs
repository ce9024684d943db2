//! Outside services misbehaving and poison messages: nothing is lost, nothing crashes.

use runtime::nats::topology::REPLY_SUBJECT;
use standins::llm::answer_for;
use standins::script::Step;
use standins::system::{System, buttons_of, text_of};
use standins::telegram::Failure;

use crate::helpers::{Chat, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_500_then_200_and_telegram_429_still_deliver_the_reply() {
    let sys = System::start("llm-retry", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7001);
    chat.open_dialog().await;
    sys.llm.push(vec![
        Step {
            status: 500,
            ..Default::default()
        },
        Step {
            status: 200,
            body: Some("garbage".into()),
            ..Default::default()
        },
    ]);
    sys.tg.fail_next(Failure {
        method: "sendmessage".into(),
        error_code: 429,
        description: "Too Many Requests: retry after 1".into(),
        retry_after: Some(1),
        after: 0,
    });
    let since = sys.tg.calls().len();
    chat.say("are you there?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("are you there?"))
        .await;
    assert_eq!(sys.llm.requests().len(), 3, "500, garbage, then the answer");
    let refused: Vec<_> = sys
        .tg
        .calls_of("sendmessage")
        .into_iter()
        .filter(|c| c.result.is_null() && text_of(c) == answer_for("are you there?"))
        .collect();
    assert_eq!(refused.len(), 1, "the stand-in served the 429 once");
    assert_eq!(chat.count_text(&answer_for("are you there?")), 1);
    // The 429 made the job retry after the reply was stored: no second LLM call for it.
    let pool = sys.pool().await.unwrap();
    let answers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE job_id IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(answers, 1);
    assert!(
        !sys.all_logs().contains(standins::system::TEST_TOKEN),
        "the bot token must never be logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_messages_are_terminated_recorded_and_the_function_keeps_serving() {
    let sys = System::start("poison", &[]).await.unwrap();
    // User 7002 has written to the bot before: Telegram knows the chat.
    sys.tg.saw_update(&standins::updates::text(
        1,
        1,
        &standins::updates::User::new(7002, "Cy"),
        "hi",
    ));
    let js = sys.js().await.unwrap();
    js.publish(REPLY_SUBJECT, "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    js.publish(
        REPLY_SUBJECT,
        r#"{"id":"x","payload":{"chat_id":7002}}"#.into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    js.publish(runtime::nats::topology::update_subject(0), "[]".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let rows = standins::harness::wait_for("dead letters", crate::helpers::STEP, || {
        let pool = pool.clone();
        async move {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT stage, delivered FROM dead_letters ORDER BY id")
                    .fetch_all(&pool)
                    .await
                    .ok()?;
            (rows.len() == 3).then_some(rows)
        }
    })
    .await
    .unwrap();
    assert_eq!(rows.iter().filter(|(s, _)| s == "fn-reply").count(), 2);
    assert!(
        rows.iter().all(|(_, d)| *d == 1),
        "poison is dropped at once, not retried: {rows:?}"
    );
    // The user whose job was garbled hears a polite word.
    let chat_7002 = Chat::new(&sys, 7002);
    chat_7002
        .expect_message(0, |c| {
            text_of(c)
                == companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry)
        })
        .await;
    // And the function still answers.
    let chat = Chat::new(&sys, 7003);
    chat.open_dialog().await;
    let since = sys.tg.calls().len();
    chat.say("still alive?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("still alive?"))
        .await;
    assert!(sys.with_process("fn-reply", |p| p.running()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_gets_a_polite_answer_and_does_not_hold_up_the_next() {
    let sys = System::start("llm-refusal", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7004);
    chat.open_dialog().await;
    sys.llm.push(vec![Step {
        status: 401,
        ..Default::default()
    }]);
    let since = sys.tg.calls().len();
    chat.say("this one fails").await;
    let sorry = chat
        .expect_message(since, |c| {
            text_of(c)
                == companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry)
        })
        .await;
    let retry = buttons_of(&sorry)
        .into_iter()
        .find(|b| b.starts_with("retry:"))
        .expect("a try-again button under the notice");
    // The next message is not kept waiting for an answer to the failed one (the wait for
    // earlier messages is 150 s; the step timeout is far shorter).
    let since = sys.tg.calls().len();
    chat.say("and this one?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("and this one?"))
        .await;
    let pool = sys.pool().await.unwrap();
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE reply_failed_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(failed, 1);

    // "Try again": the stored message is answered now (the LLM is back), and only once.
    let since = sys.tg.calls().len();
    chat.press(&sorry, &retry).await;
    chat.expect_message(since, |c| text_of(c) == answer_for("this one fails"))
        .await;
    let since = sys.tg.calls().len();
    chat.press(&sorry, &retry).await;
    let toast = sys
        .wait_call(since, STEP, |c| c.method == "answercallbackquery")
        .await
        .unwrap();
    assert_eq!(
        toast.params["text"],
        companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::NothingToRetry
        )
    );
    assert_eq!(chat.count_text(&answer_for("this one fails")), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_turns_updates_away_with_503_then_everything_resumes() {
    let sys = System::start("broker-blip", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7005);
    chat.open_dialog().await;
    sys.nats.stop();
    let lost = standins::updates::text(
        sys.tg.next_update_id(),
        50,
        &chat.user,
        "while the broker is down",
    );
    assert_eq!(
        sys.post_update(&lost).await,
        503,
        "Telegram is told to retry"
    );
    sys.nats.resume().unwrap();
    // Telegram retries the refused update; new messages flow as before.
    let since = sys.tg.calls().len();
    let retried =
        standins::harness::wait_for("ingress to accept again", crate::helpers::STEP, || {
            let sys = &sys;
            let lost = lost.clone();
            async move { (sys.post_update(&lost).await == 200).then_some(()) }
        })
        .await;
    retried.unwrap();
    chat.expect_message(since, |c| {
        text_of(c) == answer_for("while the broker is down")
    })
    .await;
    let since = sys.tg.calls().len();
    chat.say("all good?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("all good?"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dialog_longer_than_the_models_context_is_trimmed_not_failed() {
    let sys = System::start("context-overflow", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7006);
    chat.open_dialog().await;
    for text in ["one", "two"] {
        let since = sys.tg.calls().len();
        chat.say(text).await;
        chat.expect_message(since, |c| text_of(c) == answer_for(text))
            .await;
    }
    // The next prompt (system + greeting + 5 turns) no longer fits; the recent turns do.
    let first = &sys.llm.requests()[0];
    let size = |r: &serde_json::Value| -> usize {
        r["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().chars().count())
            .sum()
    };
    let limit = size(first) + 20;
    sys.llm
        .max_prompt_chars
        .store(limit, std::sync::atomic::Ordering::Relaxed);
    let since = sys.tg.calls().len();
    chat.say("three").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("three"))
        .await;
    let requests = sys.llm.requests();
    let last = requests.last().unwrap();
    assert!(size(last) <= limit, "the answered prompt fits");
    assert!(
        requests.len() >= 4,
        "at least one refused prompt: {}",
        requests.len()
    );
    assert_eq!(
        last["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .unwrap()["content"],
        "three"
    );
    assert_eq!(
        last["messages"][0]["role"], "system",
        "the persona is never trimmed"
    );
    assert_eq!(
        chat.count_text(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::Sorry
        )),
        0
    );
}
