//! OpenTelemetry export (cargo feature `otel`; `make test-features` runs this): with a
//! collector configured, a message's span reaches it over OTLP/HTTP in the message's W3C trace
//! (the id every function derives from the update), named after the function.
#![cfg(feature = "otel")]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;

type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn collect(State(got): State<Received>, headers: axum::http::HeaderMap, body: Bytes) {
    let kind = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    got.lock().unwrap().push((kind, body.to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messages_span_reaches_the_collector_in_its_trace() {
    let got: Received = Arc::default();
    let app = Router::new()
        .route("/v1/traces", post(collect))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    // SAFETY: set before the subscriber (the only reader) is installed; nothing else in this
    // test binary reads the environment.
    unsafe { std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")) };
    runtime::telemetry::init("fn-otel-test");

    let w3c = runtime::telemetry::trace::w3c_id("upd-4242");
    let span = tracing::info_span!("handle", trace_id = %w3c);
    runtime::telemetry::link(&span, &w3c);
    span.in_scope(|| tracing::info!("handled"));
    drop(span);
    tokio::task::spawn_blocking(runtime::telemetry::shutdown)
        .await
        .unwrap();

    let got = got.lock().unwrap();
    assert!(!got.is_empty(), "nothing exported");
    let (kind, body) = &got[0];
    assert_eq!(kind, "application/x-protobuf");
    let id = hex::decode(&w3c).unwrap();
    assert!(
        got.iter().any(|(_, b)| b.windows(16).any(|w| w == id)),
        "no span in trace {w3c}"
    );
    let name = b"fn-otel-test";
    assert!(body.windows(name.len()).any(|w| w == name), "service name");
}
