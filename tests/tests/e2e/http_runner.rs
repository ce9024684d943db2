//! The HTTP runner: the same stage behind `POST /invoke`, as under Lambda or any HTTP host.
//! Requests are signed for one stage and one delivery count, and used once.

use companion::jobs::ReplyJob;
use runtime::envelope::Envelope;
use runtime::runner::{DELIVERY_HEADER, SIGNATURE_HEADER, Signed, sign};
use standins::llm::answer_for;
use standins::system::{INVOKE_SECRET, System, text_of};

use crate::helpers::{Chat, http_reply_copy, invoke_signature, reply_job_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_stage_over_http_answers_and_maps_outcomes_to_status_codes() {
    let sys = System::start("http-runner", &[]).await.unwrap();
    let chat = Chat::new(&sys, 9001);
    chat.open_dialog().await;
    let url = http_reply_copy(&sys).await;

    // A user message stored as fn-updates would, answered through /invoke.
    let pool = sys.pool().await.unwrap();
    let job = reply_job_for(&chat, "over http?", "http-test").await;
    let message_id = job.payload.user_message_id;
    let http = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        http.post(&url)
            .header(SIGNATURE_HEADER, invoke_signature("fn-reply", 1, &body))
            .body(body)
            .send()
    };
    let body = serde_json::to_vec(&job).unwrap();
    // Unsigned, wrongly signed, or replayed later: 401, and nothing happens.
    let unsigned = http.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let now = chrono::Utc::now().timestamp();
    let signed = |stage, t| Signed {
        stage,
        delivered: 1,
        id: "e2e-request-1",
        t,
    };
    let forged = sign(b"not-the-secret-at-all", &signed("fn-reply", now), &body);
    let stale = sign(
        INVOKE_SECRET.as_bytes(),
        &signed("fn-reply", now - 3600),
        &body,
    );
    // Signed for fn-image: a body re-targeted at another stage.
    let elsewhere = invoke_signature("fn-image", 1, &body);
    for header in [forged, stale, elsewhere] {
        let r = http
            .post(&url)
            .header(SIGNATURE_HEADER, header)
            .body(body.clone());
        assert_eq!(r.send().await.unwrap().status(), 401);
    }
    // A genuine signature with the delivery count raised (towards the dead letter): 401.
    let first = invoke_signature("fn-reply", 1, &body);
    let r = http
        .post(&url)
        .header(SIGNATURE_HEADER, &first)
        .header(DELIVERY_HEADER, "6")
        .body(body.clone());
    assert_eq!(r.send().await.unwrap().status(), 401);
    assert!(
        sys.llm
            .requests()
            .iter()
            .all(|r| !r.to_string().contains("over http?"))
    );
    let since = sys.tg.calls().len();
    let genuine = || {
        http.post(&url)
            .header(SIGNATURE_HEADER, &first)
            .header(DELIVERY_HEADER, "1")
            .body(body.clone())
            .send()
    };
    assert_eq!(genuine().await.unwrap().status(), 200);
    chat.expect_message(since, |c| text_of(c) == answer_for("over http?"))
        .await;
    // The very same request again (a captured one replayed within the window): 401.
    assert_eq!(genuine().await.unwrap().status(), 401);
    assert!(sys.log("fn-reply-http").contains("request id already used"));
    // The same job again: already answered, nothing sent twice.
    assert_eq!(post(body.clone()).await.unwrap().status(), 200);
    assert_eq!(chat.count_text(&answer_for("over http?")), 1);
    // An LLM outage: 503 with Retry-After, for the caller to retry.
    let again = Envelope::new(
        "http-test",
        ReplyJob {
            user_message_id: message_id,
            ..job.payload.clone()
        },
    );
    sys.llm.push(vec![standins::script::Step {
        status: 503,
        ..Default::default()
    }]);
    let r = post(serde_json::to_vec(&again).unwrap()).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    // Poison: 422 and a dead letter.
    assert_eq!(post(b"nope".to_vec()).await.unwrap().status(), 422);
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dead, 1);
}
