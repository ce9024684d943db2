//! A function killed mid-job: the job is redelivered and finishes exactly once.

use std::time::Duration;

use standins::harness::wait_for;
use standins::llm::answer_for;
use standins::script::Step;
use standins::system::System;

use crate::helpers::{Chat, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_killed_while_holding_a_job_answers_exactly_once_after_restart() {
    let sys = System::start("crash", &[]).await.unwrap();
    let chat = Chat::new(&sys, 8001);
    chat.open_dialog().await;
    sys.llm.push(vec![Step {
        status: 200,
        delay_ms: 5_000,
        ..Default::default()
    }]);
    chat.say("what are you up to?").await;
    let llm = sys.llm.clone();
    wait_for("the LLM to receive the reply job", STEP, || {
        let n = llm.requests().len();
        async move { (n >= 1).then_some(()) }
    })
    .await
    .unwrap();
    sys.with_process("fn-reply", |p| p.kill9());
    sys.start_fn("fn-reply").await.unwrap();
    let expected = answer_for("what are you up to?");
    chat.expect_message(0, |c| standins::system::text_of(c) == expected)
        .await;
    // Wait past ack_wait (2 s) so a wrongly unacked job would show up again.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(chat.count_text(&expected), 1, "exactly one reply sent");
    assert_eq!(
        sys.llm.requests().len(),
        2,
        "the killed copy's call, then the redelivered job's"
    );
    let pool = sys.pool().await.unwrap();
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chat_messages WHERE role = 'assistant' AND job_id IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rows, 1, "exactly one assistant row stored");
    // SIGTERM lets a function finish and exit cleanly.
    assert!(
        sys.with_process("fn-prompt", |p| p.terminate(Duration::from_secs(10))),
        "fn-prompt exits 0 on SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_killed_mid_stream_finishes_in_the_same_message() {
    let sys = System::start("crash-stream", &[]).await.unwrap();
    let chat = Chat::new(&sys, 8002);
    chat.open_dialog().await;
    let slow: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let (since, draft) = chat
        .slow_answer("tell me everything", &slow.join(" "), 250)
        .await;
    // Killed mid-stream; the redelivered job's model answers at once, without a draft of its own.
    sys.with_process("fn-reply", |p| p.kill9());
    sys.start_fn("fn-reply").await.unwrap();
    let expected = answer_for("tell me everything");
    let done = chat
        .expect_message(since, |c| standins::system::text_of(c) == expected)
        .await;
    assert_eq!(
        done.method, "editmessagetext",
        "the answer replaces the draft"
    );
    assert_eq!(done.params["message_id"], draft.result["message_id"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = sys
        .tg
        .calls_of("sendmessage")
        .into_iter()
        .filter(|c| c.seq >= since && c.params["chat_id"] == chat.user.id)
        .count();
    assert_eq!(sent, 1, "one message: the draft, finished in place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_text_whose_draft_was_deleted_still_lands() {
    let sys = System::start("deleted-draft", &[]).await.unwrap();
    let chat = Chat::new(&sys, 8003);
    chat.open_dialog().await;
    let words: Vec<String> = (0..16).map(|i| format!("v{i}")).collect();
    let (since, draft) = chat.slow_answer("go on", &words.join(" "), 250).await;
    // The user deletes the draft while the answer is still being written.
    let id = draft.result["message_id"].as_i64().unwrap();
    sys.tg.delete_message(chat.user.id, id);
    let done = chat
        .expect_message(since, |c| standins::system::text_of(c) == words.join(" "))
        .await;
    assert_eq!(done.method, "sendmessage", "sent anew, not lost");
    assert_eq!(chat.count_text(&words.join(" ")), 1);
    let sorry = companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry);
    assert_eq!(
        chat.count_text(sorry),
        0,
        "no apology for a step the user deleted"
    );
}
