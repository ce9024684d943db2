//! fn-reply as an AWS Lambda function behind fn-bridge: the real `lambda_http` runtime polls
//! the Lambda stand-in's Runtime API, the stand-in's function URL turns the bridge's signed
//! POSTs into API Gateway v2 events, and the bridge maps the answers to ack, nak and term. A
//! request the bridge signed cannot be sent again (to either execution environment), nor with
//! its delivery count changed, nor re-targeted from another stage.

use standins::harness::{free_port, wait_for};
use standins::lambda::Lambda;
use standins::llm::answer_for;
use standins::script::Step;
use standins::serve;
use standins::system::System;

use crate::helpers::{Chat, STEP, get, invoke_signature, sample, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_stage_as_a_lambda_behind_the_bridge_answers_each_turn_once() {
    let sys = System::start("bridge", &[]).await.unwrap();
    let lambda = Lambda::new();
    let runtime = serve(lambda.runtime_router(), "127.0.0.1:0").await.unwrap();
    let function_url = serve(lambda.url_router(), "127.0.0.1:0").await.unwrap();
    // fn-reply's container copy stops; two Lambda execution environments take its place.
    sys.stop_copy("fn-reply");
    let mut env = Lambda::environment(&runtime.to_string(), "companion-reply");
    env.push(("RUNNER".into(), "http".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for i in 1..=2 {
        let name = format!("fn-reply-lambda-{i}");
        sys.start_copy("fn-reply", &name, &env).await.unwrap();
    }
    let ops = format!("127.0.0.1:{}", free_port());
    let routes = format!("fn-reply=http://{function_url}/invoke");
    let bridge_env = [
        ("BRIDGE_ROUTES", routes.as_str()),
        ("OPS_ADDR", ops.as_str()),
        ("BRIDGE_IN_FLIGHT", "4"),
    ];
    sys.start_copy("fn-bridge", "fn-bridge", &bridge_env)
        .await
        .unwrap();

    let chat = Chat::new(&sys, 9101);
    chat.open_dialog().await;
    chat.turn("through lambda?").await;
    let events = lambda.events();
    let event = events.last().expect("the function was invoked");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["rawPath"], "/invoke");
    assert_eq!(event["requestContext"]["http"]["method"], "POST");
    let headers = &event["headers"];
    assert!(headers["x-companion-signature"].is_string(), "{event}");
    assert!(headers["traceparent"].is_string(), "{event}");
    assert_eq!(headers["companion-schema"], "1");

    // The bridge's request, captured and sent again: refused by whichever environment takes
    // it (the ids are shared through JetStream KV); with its count raised too; and a body
    // signed for another stage (fn-prompt's route) posted here.
    let body = match event["isBase64Encoded"].as_bool() {
        Some(true) => {
            use base64::Engine;
            let b64 = event["body"].as_str().unwrap();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap()
        }
        _ => event["body"].as_str().unwrap().as_bytes().to_vec(),
    };
    let signature = headers["x-companion-signature"].as_str().unwrap();
    let url = format!("http://{function_url}/invoke");
    let http = reqwest::Client::new();
    let post = |signature: &str, count: &str| {
        http.post(&url)
            .header("x-companion-signature", signature)
            .header("x-delivery-count", count)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let count = headers["x-delivery-count"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(
            post(signature, count).await.unwrap().status(),
            401,
            "replayed"
        );
    }
    assert_eq!(
        post(signature, "6").await.unwrap().status(),
        401,
        "count raised"
    );
    let elsewhere = invoke_signature("fn-prompt", 1, &body);
    assert_eq!(
        post(&elsewhere, "1").await.unwrap().status(),
        401,
        "re-targeted"
    );

    // A model slower than the ack wait (2 s): the bridge's progress acks hold the message.
    sys.llm.push(vec![Step {
        delay_ms: 5000,
        ..Default::default()
    }]);
    chat.turn("slowly?").await;
    // A model outage: the function answers 503, the bridge naks and the retry answers.
    sys.llm.push(vec![Step {
        status: 503,
        ..Default::default()
    }]);
    chat.turn("after a hiccup?").await;
    // Poison on the stage's subject: the function stores it (422), the bridge terminates it.
    let js = sys.js().await.unwrap();
    let subject = runtime::nats::topology::REPLY_SUBJECT;
    js.publish(subject, "not a job".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    wait_for("the poison recorded", STEP, || {
        let pool = pool.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM dead_letters WHERE stage = 'fn-reply'")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (n == 1).then_some(())
        }
    })
    .await
    .unwrap();
    settle(&sys).await;

    for text in ["through lambda?", "slowly?", "after a hiccup?"] {
        assert_eq!(chat.count_text(&answer_for(text)), 1, "{text}");
    }
    let (_, metrics) = get(&format!("http://{ops}/metrics")).await;
    let count = |outcome: &str| {
        let label = format!("outcome=\"{outcome}\"");
        sample(
            &metrics,
            "companion_messages_total",
            &["stage=\"fn-reply\"", &label],
        )
        .unwrap_or(0.0)
    };
    assert!(count("ack") >= 3.0, "{metrics}");
    assert!(count("nak") >= 1.0, "{metrics}");
    assert_eq!(count("term"), 1.0, "{metrics}");
    assert!(
        metrics.contains("companion_consumer_pending{stage=\"fn-reply\"} 0"),
        "{metrics}"
    );
    assert!(lambda.errors().is_empty(), "{:?}", lambda.errors());
    // Both execution environments polled for work.
    for i in 1..=2 {
        let log = sys.log(&format!("fn-reply-lambda-{i}"));
        assert!(log.contains("lambda_http"), "{log}");
    }
}
