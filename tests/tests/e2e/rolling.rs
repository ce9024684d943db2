//! Rolling deploys: every publish carries the schema version of the build that wrote it; a
//! function that meets a newer one gives the message back with a delay (for a newer copy)
//! instead of failing on it, over NATS and over `/invoke` alike, and handles it once a copy
//! that knows it — here, the same message published again as this build — comes along.

use std::time::Duration;

use async_nats::jetstream::message::PublishMessage;
use runtime::envelope::SCHEMA_HEADER;
use runtime::runner::SIGNATURE_HEADER;
use standins::llm::answer_for;
use standins::system::{System, text_of};

use crate::helpers::{Chat, http_reply_copy, invoke_signature, reply_job_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_a_newer_build_is_given_back_not_dead_lettered() {
    let sys = System::start("rolling", &[]).await.unwrap();
    let chat = Chat::new(&sys, 9301);
    chat.open_dialog().await;
    let pool = sys.pool().await.unwrap();
    let job = reply_job_for(&chat, "from the future", "rolling-test").await;
    let body = serde_json::to_vec(&job).unwrap();
    let js = sys.js().await.unwrap();
    let newer = PublishMessage::build()
        .payload(body.clone().into())
        .header(SCHEMA_HEADER, "99");
    js.send_publish(runtime::nats::topology::REPLY_SUBJECT, newer)
        .await
        .unwrap()
        .await
        .unwrap();
    // Offered and given back, again and again; never answered, never dead-lettered.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let info = runtime::nats::topology::consumer_info(&js, &runtime::nats::topology::REPLY_STAGE)
        .await
        .unwrap();
    assert_eq!(
        info.num_pending + info.num_ack_pending as u64,
        1,
        "still queued"
    );
    assert!(info.num_redelivered >= 1, "offered again after the delay");
    assert!(sys.log("fn-reply").contains("message from a newer build"));
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dead, 0);
    assert_eq!(chat.count_text(&answer_for("from the future")), 0);

    // /invoke says the same: retry later.
    let url = http_reply_copy(&sys).await;
    let r = reqwest::Client::new()
        .post(&url)
        .header(SIGNATURE_HEADER, invoke_signature("fn-reply", 1, &body))
        .header(SCHEMA_HEADER, "99")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");

    // The same job as this build writes it: answered once.
    let since = sys.tg.calls().len();
    js.send_publish(
        runtime::nats::topology::REPLY_SUBJECT,
        runtime::envelope::stamped(body.into()),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    chat.expect_message(since, |c| text_of(c) == answer_for("from the future"))
        .await;
}
