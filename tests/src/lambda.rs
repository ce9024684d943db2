//! AWS Lambda stand-in: the Runtime API a function's runtime polls (`GET
//! /2018-06-01/runtime/invocation/next`, then `POST …/invocation/<id>/response` or
//! `…/error`, `POST …/runtime/init/error`) and, in front of it, a function URL that turns each
//! HTTP request into an API Gateway HTTP API v2 event (payload format 2.0, as function URLs
//! send) and the function's structured answer back into an HTTP response. Every process that
//! polls is one execution environment; each takes one invocation at a time, as in Lambda.
//! A function error or an invocation nobody answers in time is a 502, as a function URL says.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

/// How long the function URL waits for an answer (a function's timeout).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(60);

type Answer = Result<Value, Value>;

/// The Lambda service, as far as one function sees it.
#[derive(Default)]
pub struct Lambda {
    queue: Mutex<VecDeque<(String, Value)>>,
    ready: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    next_id: AtomicU64,
    events: Mutex<Vec<Value>>,
    errors: Mutex<Vec<Value>>,
}

impl Lambda {
    /// A new service with nothing queued.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The Runtime API (its address is the function's `AWS_LAMBDA_RUNTIME_API`).
    pub fn runtime_router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(self.clone())
    }

    /// The function URL: any method, any path.
    pub fn url_router(self: &Arc<Self>) -> Router {
        Router::new().fallback(invoke_url).with_state(self.clone())
    }

    /// The variables Lambda sets in a function's environment.
    pub fn environment(runtime_addr: &str, function: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", runtime_addr.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/26/[$LATEST]0".to_owned(),
            ),
            ("AWS_REGION", "eu-west-1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Every event handed to the function so far.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Every error the function reported (invocation and init errors).
    pub fn errors(&self) -> Vec<Value> {
        self.errors.lock().unwrap().clone()
    }

    /// Queues `event` and waits for the function's answer.
    async fn invoke(&self, event: Value) -> Option<Answer> {
        let id = format!(
            "req-{:08}-{}",
            self.next_id.fetch_add(1, Ordering::Relaxed),
            uuid::Uuid::new_v4().simple()
        );
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().unwrap().insert(id.clone(), tx);
        self.queue.lock().unwrap().push_back((id.clone(), event));
        self.ready.notify_one();
        let answer = tokio::time::timeout(FUNCTION_TIMEOUT, rx).await;
        self.waiting.lock().unwrap().remove(&id);
        answer.ok().and_then(Result::ok)
    }

    fn answer(&self, id: &str, answer: Answer) -> StatusCode {
        match self.waiting.lock().unwrap().remove(id) {
            Some(tx) => {
                let _ = tx.send(answer);
                StatusCode::ACCEPTED
            }
            // As Lambda does for an unknown or already answered request id.
            None => StatusCode::BAD_REQUEST,
        }
    }
}

async fn next(State(l): State<Arc<Lambda>>) -> Response {
    let (id, event) = loop {
        let notified = l.ready.notified();
        if let Some(item) = l.queue.lock().unwrap().pop_front() {
            break item;
        }
        notified.await;
    };
    l.events.lock().unwrap().push(event.clone());
    let deadline = chrono::Utc::now().timestamp_millis() + FUNCTION_TIMEOUT.as_millis() as i64;
    let mut r = Json(event).into_response();
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: String| {
        h.insert(k, HeaderValue::from_str(&v).expect("header value"));
    };
    set(h, "lambda-runtime-aws-request-id", id);
    set(h, "lambda-runtime-deadline-ms", deadline.to_string());
    set(
        h,
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:000000000000:function:companion".to_owned(),
    );
    set(
        h,
        "lambda-runtime-trace-id",
        "Root=1-67890abc-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".to_owned(),
    );
    r
}

async fn response(State(l): State<Arc<Lambda>>, Path(id): Path<String>, body: Bytes) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (l.answer(&id, Ok(value)), Json(json!({"status": "OK"}))).into_response()
}

async fn error(State(l): State<Arc<Lambda>>, Path(id): Path<String>, body: Bytes) -> Response {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    l.errors.lock().unwrap().push(value.clone());
    (l.answer(&id, Err(value)), Json(json!({"status": "OK"}))).into_response()
}

async fn init_error(State(l): State<Arc<Lambda>>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    l.errors.lock().unwrap().push(value);
    StatusCode::ACCEPTED
}

/// A function URL request as an API Gateway v2 event.
fn event(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Value {
    let mut joined: HashMap<String, String> = HashMap::new();
    for (k, v) in headers {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        joined
            .entry(k.as_str().to_owned())
            .and_modify(|e| *e = format!("{e},{v}"))
            .or_insert(v);
    }
    let text = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/") || t.contains("json"));
    let (body, encoded) = match text && std::str::from_utf8(body).is_ok() {
        true => (String::from_utf8_lossy(body).into_owned(), false),
        false => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let now = chrono::Utc::now();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": uri.query().unwrap_or(""),
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "companion",
            "domainName": "companion.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "companion",
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": joined.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "body": body,
        "isBase64Encoded": encoded,
    })
}

async fn invoke_url(
    State(l): State<Arc<Lambda>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = l.invoke(event(&method, &uri, &headers, &body)).await;
    match answer {
        Some(Ok(value)) => structured(value),
        Some(Err(_)) | None => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"Message": "Internal Server Error"})),
        )
            .into_response(),
    }
}

/// The function's answer as HTTP: `statusCode`, `headers`, `body` (base64 when
/// `isBase64Encoded`); any other JSON is a 200 with that JSON as the body.
fn structured(value: Value) -> Response {
    let Some(code) = value.get("statusCode").and_then(Value::as_u64) else {
        return Json(value).into_response();
    };
    let body = value.get("body").and_then(Value::as_str).unwrap_or("");
    let body = match value.get("isBase64Encoded").and_then(Value::as_bool) {
        Some(true) => base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap_or_default(),
        _ => body.as_bytes().to_vec(),
    };
    let status = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut r = (status, body).into_response();
    if let Some(headers) = value.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            if let (Ok(k), Some(Ok(v))) = (
                HeaderName::from_bytes(k.as_bytes()),
                v.as_str().map(HeaderValue::from_str),
            ) {
                r.headers_mut().insert(k, v);
            }
        }
    }
    r
}
