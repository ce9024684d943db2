//! fn-send against a Telegram as strict as the real one: a split reply with a 429 in the
//! middle, 5xx, a user who blocked the bot, a chat that is gone, and a Telegram so slow for some chats that it must not hold up anyone else.

use std::time::{Duration, Instant};

use standins::llm::answer_for;
use standins::script::Step;
use standins::system::{System, text_of};
use standins::telegram::Failure;

use crate::helpers::{Chat, STEP, delivered, settle};

fn failure(
    method: &str,
    code: u16,
    description: &str,
    retry_after: Option<u64>,
    after: usize,
) -> Failure {
    Failure {
        method: method.into(),
        error_code: code,
        description: description.into(),
        retry_after,
        after,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_the_second_of_three_parts_sends_each_part_once_in_order() {
    let sys = System::start("split-429", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7101);
    chat.open_dialog().await;
    let parts = ["A".repeat(4000), "B".repeat(4000), "C".repeat(120)];
    sys.llm.push(vec![Step {
        content: Some(parts.join("\n\n")),
        ..Default::default()
    }]);
    sys.tg.fail_next(failure(
        "sendmessage",
        429,
        "Too Many Requests: retry after 2",
        Some(2),
        1,
    ));
    let since = sys.tg.calls().len();
    chat.say("tell me a long story").await;
    let last = chat.expect_message(since, |c| text_of(c) == parts[2]).await;
    settle(&sys).await;
    let calls: Vec<_> = sys
        .tg
        .calls_of("sendmessage")
        .into_iter()
        .skip_while(|c| c.seq < since)
        .collect();
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(chat.count_text(part), 1, "part {i} delivered exactly once");
    }
    let tries_of = |p: &str| calls.iter().filter(|c| text_of(c) == p).count();
    assert_eq!(
        (tries_of(&parts[0]), tries_of(&parts[1])),
        (1, 2),
        "only part 2 was tried again"
    );
    let refused = calls
        .iter()
        .find(|c| !delivered(c))
        .expect("the 429 was served");
    assert_eq!(text_of(refused), parts[1]);
    let first = calls
        .iter()
        .find(|c| delivered(c) && text_of(c) == parts[0])
        .unwrap();
    let second = calls
        .iter()
        .find(|c| delivered(c) && text_of(c) == parts[1])
        .unwrap();
    assert!(
        first.seq < second.seq && second.seq < last.seq,
        "parts arrive in order"
    );
    assert!(
        second.at_us - refused.at_us >= 1_900_000,
        "retry_after (2 s) was honoured: {} µs",
        second.at_us - refused.at_us
    );
    assert_eq!(
        sys.llm.requests().len(),
        1,
        "the 429 never reached the LLM again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_5xx_is_retried_and_the_answer_arrives_once() {
    let sys = System::start("tg-5xx", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7102);
    chat.open_dialog().await;
    sys.tg
        .fail_next(failure("sendmessage", 502, "Bad Gateway", None, 0));
    sys.tg.fail_next(failure(
        "sendmessage",
        500,
        "Internal Server Error",
        None,
        0,
    ));
    let since = sys.tg.calls().len();
    chat.say("hello?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("hello?"))
        .await;
    settle(&sys).await;
    assert_eq!(chat.count_text(&answer_for("hello?")), 1);
    assert_eq!(
        chat.count_text(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::Sorry
        )),
        0,
        "a retried send needs no apology"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_blocked_the_bot_gets_nothing_more_until_they_write_again() {
    let sys = System::start("blocked", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7103);
    chat.open_dialog().await;
    sys.tg.block(chat.user.id, true);
    chat.say("bye").await;
    let pool = sys.pool().await.unwrap();
    let unreachable = standins::harness::wait_for("the user marked unreachable", STEP, || {
        let pool = pool.clone();
        async move {
            let at: Option<chrono::DateTime<chrono::Utc>> =
                sqlx::query_scalar("SELECT unreachable_at FROM users WHERE id = 7103")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            at
        }
    })
    .await;
    assert!(unreachable.is_ok());
    settle(&sys).await;
    let after_block: Vec<_> = sys
        .tg
        .calls_of("sendmessage")
        .into_iter()
        .filter(|c| c.params["chat_id"] == 7103 && !delivered(c))
        .collect();
    assert_eq!(
        after_block.len(),
        1,
        "one refused send, then silence: {after_block:#?}"
    );
    assert_eq!(
        chat.count_text(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::Sorry
        )),
        0
    );
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dead, 0, "a blocked user is not a failure");
    // They unblock and write again: they are answered.
    sys.tg.block(chat.user.id, false);
    let since = sys.tg.calls().len();
    chat.say("I'm back").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("I'm back"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_that_is_gone_is_dropped_quietly() {
    let sys = System::start("chat-gone", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7104);
    chat.open_dialog().await;
    sys.tg.forget_chat(chat.user.id);
    let u = standins::updates::text(sys.tg.next_update_id(), 77, &chat.user, "anyone?");
    // Posted straight to the webhook: Telegram no longer knows the chat.
    let body = serde_json::to_vec(&u).unwrap();
    let http = reqwest::Client::new();
    let r = http
        .post(&sys.webhook_url)
        .header("x-telegram-bot-api-secret-token", &sys.secret)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pool = sys.pool().await.unwrap();
    standins::harness::wait_for("the reply effect to be dropped", STEP, || {
        let pool = pool.clone();
        async move {
            let failed: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM effects WHERE chat_id = 7104 AND state = 'failed' AND error LIKE '%chat not found%'",
            ).fetch_one(&pool).await.ok()?;
            (failed == 1).then_some(())
        }
    }).await.unwrap();
    settle(&sys).await;
    assert_eq!(
        chat.count_text(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::Sorry
        )),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_whose_telegram_hangs_do_not_hold_up_anyone_else() {
    let sys = System::start("tg-hangs", &[]).await.unwrap();
    let slow: Vec<Chat> = (0..5).map(|i| Chat::new(&sys, 7200 + i)).collect();
    for c in &slow {
        sys.tg.hang(c.user.id, Some(Duration::from_secs(25)));
        c.say("/start").await;
    }
    let pool = sys.pool().await.unwrap();
    // Their updates were decided and committed: fn-updates is not waiting on Telegram.
    standins::harness::wait_for("the slow chats' updates to commit", STEP, || {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM effects WHERE chat_id BETWEEN 7200 AND 7204",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (n == 5).then_some(())
        }
    })
    .await
    .unwrap();
    let started = Instant::now();
    let chat = Chat::new(&sys, 7300);
    chat.open_dialog().await;
    let since = sys.tg.calls().len();
    chat.say("is it just me?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("is it just me?"))
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "answered while the others hang: {:?}",
        started.elapsed()
    );
}
