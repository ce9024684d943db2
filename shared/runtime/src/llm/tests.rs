//! The flavor, the ranges checked at start, the body each flavor gets, and the structured
//! ladder against a small server that refuses what a strict OpenAI-compatible one refuses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs)
}

#[test]
fn auto_picks_venice_only_for_venice_hosts() {
    let auto = |url| Flavor::choose("auto", url);
    assert_eq!(auto(VENICE_DEFAULT), Some(Flavor::Venice));
    assert_eq!(auto("https://venice.ai/v1"), Some(Flavor::Venice));
    assert_eq!(auto("http://127.0.0.1:8000/v1"), Some(Flavor::OpenAi));
    assert_eq!(auto("https://notvenice.ai/v1"), Some(Flavor::OpenAi));
    assert_eq!(auto("https://venice.ai.example.com"), Some(Flavor::OpenAi));
    let local = "http://127.0.0.1:1/v1";
    assert_eq!(Flavor::choose("Venice", local), Some(Flavor::Venice));
    assert_eq!(
        Flavor::choose("openai", VENICE_DEFAULT),
        Some(Flavor::OpenAi)
    );
    assert_eq!(Flavor::choose("claude", local), None);
}

#[test]
fn temperatures_and_penalties_are_checked_at_start_with_the_flavor_named() {
    let mut e = env(&[("LLM_FLAVOR", "openai"), ("LLM_TEMPERATURE", "2")]);
    let endpoint = Endpoint::read(&mut e);
    let s = Sampling::read(&mut e, endpoint.flavor);
    assert!(e.finish().is_ok(), "2 is OpenAI's top");
    assert_eq!(s.temperature, 2.0);

    let mut e = env(&[("LLM_TEMPERATURE", "2")]);
    let endpoint = Endpoint::read(&mut e);
    assert_eq!(
        endpoint.flavor,
        Flavor::Venice,
        "the default URL is Venice's"
    );
    Sampling::read(&mut e, endpoint.flavor);
    let err = e.finish().unwrap_err().to_string();
    assert!(
        err.contains("LLM_TEMPERATURE=2 is out of range: with LLM_FLAVOR=venice it must be strictly between 0 and 2"),
        "{err}"
    );

    for bad in ["5", "-0.1", "NaN", "inf"] {
        let mut e = env(&[("LLM_FLAVOR", "openai"), ("LLM_TEMPERATURE", bad)]);
        Sampling::read(&mut e, Flavor::OpenAi);
        let err = e.finish().unwrap_err().to_string();
        assert!(err.contains("LLM_TEMPERATURE"), "{bad}: {err}");
    }
    let mut e = env(&[
        ("LLM_FREQUENCY_PENALTY", "2.5"),
        ("LLM_PRESENCE_PENALTY", "-3"),
        ("LLM_FLAVOR", "gpt"),
    ]);
    let endpoint = Endpoint::read(&mut e);
    Sampling::read(&mut e, endpoint.flavor);
    let err = e.finish().unwrap_err().to_string();
    for needle in [
        "LLM_FREQUENCY_PENALTY=2.5 is out of range",
        "LLM_PRESENCE_PENALTY=-3 is out of range",
        "LLM_FLAVOR=\"gpt\" must be",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn the_warmer_try_stays_within_the_flavor() {
    let hot = Sampling::fixed(0.8, Flavor::Venice).warmer();
    assert!((hot.temperature - 1.05).abs() < 1e-6);
    assert!((hot.frequency_penalty - PENALTY_UP_BY).abs() < 1e-6);
    let top = Sampling::fixed(1.9, Flavor::Venice).warmer();
    assert!(top.temperature < 2.0 && Flavor::Venice.temperatures().contains(top.temperature));
    assert_eq!(
        Sampling::fixed(1.9, Flavor::OpenAi).warmer().temperature,
        2.0
    );
    let steep = Sampling {
        frequency_penalty: 1.8,
        presence_penalty: -2.0,
        ..Sampling::fixed(1.0, Flavor::OpenAi)
    }
    .warmer();
    assert_eq!(steep.frequency_penalty, 2.0);
    assert!((steep.presence_penalty + 1.4).abs() < 1e-6);
}

fn endpoint(base_url: &str, flavor: Flavor) -> Endpoint {
    Endpoint {
        base_url: base_url.into(),
        api_key: Secret::new("k"),
        model: "m".into(),
        flavor,
    }
}

fn hello() -> Vec<ChatMessage> {
    vec![ChatMessage {
        role: "user".into(),
        content: "hi".into(),
    }]
}

#[test]
fn venice_parameters_go_to_venice_only() {
    let messages = hello();
    let schema = json!({"type": "object"});
    let request = Request {
        messages: &messages,
        sampling: Sampling::fixed(0.7, Flavor::Venice),
        max_completion_tokens: 100,
        stream: true,
        format: ResponseFormat::JsonSchema {
            name: "scene",
            schema: &schema,
        },
    };
    let venice = request.body(&endpoint(VENICE_DEFAULT, Flavor::Venice));
    assert_eq!(
        venice["venice_parameters"]["include_venice_system_prompt"],
        false
    );
    assert_eq!(venice["response_format"]["json_schema"]["strict"], true);
    assert_eq!(venice["response_format"]["json_schema"]["schema"], schema);
    let openai = request.body(&endpoint("http://x/v1", Flavor::OpenAi));
    let keys: Vec<&str> = openai
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "frequency_penalty",
            "max_completion_tokens",
            "messages",
            "model",
            "presence_penalty",
            "response_format",
            "stream",
            "temperature"
        ],
        "OpenAI's fields only, nothing Venice's"
    );
    let plain = Request {
        format: ResponseFormat::Text,
        sampling: Sampling::fixed(0.7, Flavor::OpenAi).warmer(),
        ..request
    }
    .body(&endpoint("http://x/v1", Flavor::OpenAi));
    assert!(plain.get("response_format").is_none());
    assert!(plain["presence_penalty"].as_f64().unwrap() > 0.5);
    let object = Request {
        format: ResponseFormat::JsonObject,
        ..request
    };
    let body = object.body(&endpoint("http://x/v1", Flavor::OpenAi));
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
}

#[test]
fn context_overflow_is_recognised_in_openai_error_shape() {
    let body = r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
    assert!(is_context_overflow(body));
    assert!(!is_context_overflow(
        r#"{"error":{"message":"bad key","type":"auth","code":null}}"#
    ));
    assert!(!is_context_overflow("not json"));
}

/// A server refusing the formats in `refused` (and, with `broken`, every call) as a strict
/// OpenAI-compatible one does; it records the format each call asked for.
async fn server(
    refused: &'static [&'static str],
    broken: bool,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |Json(body): Json<Value>| {
            let log = log.clone();
            async move {
                let kind = body["response_format"]["type"]
                    .as_str()
                    .unwrap_or("text")
                    .to_owned();
                log.lock().unwrap().push(kind.clone());
                let error = |m: &str| json!({"error": {"message": m, "type": "invalid_request_error"}});
                if broken {
                    let e = error("The model `m` does not exist");
                    return (StatusCode::BAD_REQUEST, Json(e)).into_response();
                }
                if refused.contains(&kind.as_str()) {
                    let e = error(&format!("response_format {kind} is not supported"));
                    return (StatusCode::BAD_REQUEST, Json(e)).into_response();
                }
                let done = json!({"choices": [{"message": {"role": "assistant", "content": "{\"ok\": true}"}}]});
                Json(done).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), seen)
}

async fn ask(client: &LlmClient, ladder: &Ladder) -> Result<Answer, StructuredError> {
    let messages = hello();
    let schema = json!({"type": "object"});
    let request = Request {
        messages: &messages,
        sampling: Sampling::fixed(0.4, Flavor::OpenAi),
        max_completion_tokens: 50,
        stream: false,
        format: ResponseFormat::Text,
    };
    ladder.ask(client, request, ("s", &schema)).await
}

#[tokio::test]
async fn a_refused_format_steps_down_once_per_process() {
    let (url, seen) = server(&["json_schema"], false).await;
    let client =
        LlmClient::new(endpoint(&url, Flavor::OpenAi), Duration::from_secs(5), "t").unwrap();
    let ladder = Ladder::new();
    let first = ask(&client, &ladder).await.unwrap();
    assert_eq!(
        (first.level, first.text.as_str()),
        (Level::Object, "{\"ok\": true}")
    );
    assert_eq!(ask(&client, &ladder).await.unwrap().level, Level::Object);
    assert_eq!(
        *seen.lock().unwrap(),
        ["json_schema", "json_object", "json_object"]
    );

    let (url, seen) = server(&["json_schema", "json_object"], false).await;
    let client =
        LlmClient::new(endpoint(&url, Flavor::OpenAi), Duration::from_secs(5), "t").unwrap();
    let ladder = Ladder::new();
    assert_eq!(ask(&client, &ladder).await.unwrap().level, Level::Plain);
    assert_eq!(ladder.level(), Level::Plain);
    assert_eq!(ask(&client, &ladder).await.unwrap().level, Level::Plain);
    assert_eq!(
        *seen.lock().unwrap(),
        ["json_schema", "json_object", "text", "text"]
    );
}

#[tokio::test]
async fn a_400_for_another_reason_stays_permanent_and_lowers_nothing() {
    let (url, _) = server(&[], true).await;
    let client =
        LlmClient::new(endpoint(&url, Flavor::OpenAi), Duration::from_secs(5), "t").unwrap();
    let ladder = Ladder::new();
    let Err(StructuredError::Failed(f)) = ask(&client, &ladder).await else {
        panic!("a refusal");
    };
    assert!(f.to_string().contains("does not exist"), "{f}");
    assert!(!crate::HandlerError::from(f).is_transient(), "permanent");
    assert_eq!(
        ladder.level(),
        Level::Schema,
        "the format was not the problem"
    );
}
