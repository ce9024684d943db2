//! One update's trace through every function: fn-ingress starts a W3C trace for it
//! (`traceparent` on the NATS message), each function derives the same trace id from the
//! update's own id and carries it on its log lines, its publishes and its outside calls — here
//! the LLM stand-in sees it.

use standins::llm::answer_for;
use standins::system::{System, text_of};

use crate::helpers::{Chat, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_updates_trace_id_runs_through_every_functions_logs() {
    let sys = System::start("tracing", &[("RUST_LOG", "info,runtime=debug")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 9501);
    chat.open_dialog().await;
    let since = sys.tg.calls().len();
    let update = chat.say("follow me").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("follow me"))
        .await;
    settle(&sys).await;
    let id = update["update_id"].as_i64().unwrap();
    let trace = runtime::telemetry::trace::w3c_id(&format!("upd-{id}"));
    for f in ["fn-updates", "fn-reply", "fn-send"] {
        let log = sys.log(f);
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(&trace)).collect();
        assert!(
            lines.iter().any(|l| l.contains("handled")),
            "{f} logs no line with trace {trace}:\n{log}"
        );
    }
    // Another update's trace is another id.
    let other = runtime::telemetry::trace::w3c_id(&format!("upd-{}", id + 1000));
    assert!(!sys.log("fn-reply").contains(&other));
    // The LLM call carried it as `traceparent`.
    let seen: Vec<String> = sys
        .llm
        .traceparents()
        .iter()
        .filter_map(|p| runtime::telemetry::trace::parse(p))
        .collect();
    assert!(seen.contains(&trace), "{seen:?} lacks {trace}");
}
