//! One job delivered twice at once (the sweeper's re-publish after a long queue wait, a broker
//! outage longer than the ack wait): both deliveries stream into the same draft, and what the
//! user sees in the end is exactly the answer that was stored — never another generation's
//! partial text with ▌ and ⏹ after it.

use std::collections::BTreeMap;

use standins::script::Step;
use standins::system::System;

use crate::helpers::{Chat, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_job_delivered_twice_at_once_shows_the_stored_answer() {
    let sys = System::start("twice-at-once", &[("STREAM_EDIT_SECS", "1")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 7401);
    chat.open_dialog().await;
    let words = |w: &str| {
        (1..=14)
            .map(|i| format!("{w}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    sys.llm.push(vec![
        Step {
            content: Some(words("alpha")),
            chunk_ms: 350,
            ..Default::default()
        },
        Step {
            content: Some(words("beta")),
            chunk_ms: 250,
            ..Default::default()
        },
    ]);
    let pool = sys.pool().await.unwrap();
    let since = sys.tg.calls().len();
    chat.say("tell me a story").await;
    // The reply job as fn-updates wrote it, published once more while the first streams.
    let payload: Vec<u8> = standins::harness::wait_for(
        "the reply job",
        std::time::Duration::from_secs(20),
        || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar(
                    "SELECT payload FROM outbox WHERE subject = 'jobs.reply' ORDER BY created_at DESC LIMIT 1",
                )
                .fetch_optional(&pool)
                .await
                .ok()
                .flatten()
            }
        },
    )
    .await
    .unwrap();
    let js = sys.js().await.unwrap();
    js.publish(runtime::nats::topology::REPLY_SUBJECT, payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
    standins::harness::wait_for(
        "both model calls",
        std::time::Duration::from_secs(20),
        || async { (sys.llm.requests().len() >= 2).then_some(()) },
    )
    .await
    .unwrap();
    let stored: String = standins::harness::wait_for(
        "the answer stored",
        std::time::Duration::from_secs(30),
        || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar(
                    "SELECT content FROM chat_messages WHERE role = 'assistant'
                     AND (content LIKE 'alpha%' OR content LIKE 'beta%')",
                )
                .fetch_optional(&pool)
                .await
                .ok()
                .flatten()
            }
        },
    )
    .await
    .unwrap();
    // Both deliveries are over (the loser's stream ends a little later).
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    settle(&sys).await;
    // What each message shows now: its last accepted text.
    let mut shown: BTreeMap<i64, String> = BTreeMap::new();
    for c in sys.tg.calls().iter().skip(since) {
        if c.params["chat_id"] != 7401 || c.result.is_null() {
            continue;
        }
        if let (Some(id), Some(text)) = (c.result["message_id"].as_i64(), c.params["text"].as_str())
        {
            shown.insert(id, text.to_owned());
        }
    }
    let answers: Vec<&String> = shown
        .values()
        .filter(|t| t.starts_with("alpha") || t.starts_with("beta"))
        .collect();
    assert_eq!(
        answers,
        vec![&stored],
        "the user sees exactly the stored answer: {shown:?}"
    );
}
