//! The HTTP runner: `POST /invoke` takes the same message body a JetStream subject carries.
//! Under AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) it is served by `lambda_http`, elsewhere
//! by a plain HTTP server. Status codes tell a caller (or the JetStream→HTTP bridge) what to
//! do: 200 ack, 503 + `Retry-After` retry (plus `X-Companion-Defer` when it waits its turn
//! rather than failed, so the caller keeps the delivery count), 422 dropped and recorded, 401
//! unsigned. Every body must carry an HMAC signature ([`super::sign`]) unless ops chose
//! IAM-authorised Lambda function URLs, where AWS checks the caller before the request
//! reaches us.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;

use super::{Core, Outcome, Stage, sign};
use crate::config::Secret;
use crate::envelope::{NEWER_SCHEMA_DELAY, SCHEMA_HEADER, is_newer};
use crate::shutdown;

/// How callers of `/invoke` prove who they are.
#[derive(Debug, Clone)]
pub enum InvokeAuth {
    /// An HMAC-SHA256 signature with this secret (`INVOKE_SECRET`).
    Hmac(Secret),
    /// AWS IAM on the Lambda function URL (`INVOKE_AUTH=iam`): the platform checks callers.
    Iam,
}

struct Invoke<S: Stage> {
    core: Arc<Core<S>>,
    auth: InvokeAuth,
}

/// Header carrying the delivery count (1-based) when a bridge retries.
pub const DELIVERY_HEADER: &str = "x-delivery-count";

/// Header on a 503 that means "not yet" (waiting its turn) rather than "failed".
pub const DEFER_HEADER: &str = "x-companion-defer";

/// The router: `POST /invoke`, `GET /healthz`.
pub fn http_router<S: Stage>(core: Arc<Core<S>>, auth: InvokeAuth) -> Router {
    Router::new()
        .route("/invoke", post(invoke::<S>))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Arc::new(Invoke { core, auth }))
}

fn signed(auth: &InvokeAuth, headers: &HeaderMap, body: &[u8]) -> bool {
    match auth {
        InvokeAuth::Iam => true,
        InvokeAuth::Hmac(secret) => {
            let header = headers
                .get(sign::SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let now = chrono::Utc::now().timestamp();
            sign::verify(secret.expose().as_bytes(), header, body, now)
        }
    }
}

async fn invoke<S: Stage>(
    State(inv): State<Arc<Invoke<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !signed(&inv.auth, &headers, &body) {
        tracing::warn!(
            stage = S::SPEC.name,
            "unsigned or badly signed /invoke refused"
        );
        return (StatusCode::UNAUTHORIZED, "signature required").into_response();
    }
    let schema = headers.get(SCHEMA_HEADER).and_then(|v| v.to_str().ok());
    let delivered = headers
        .get(DELIVERY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let outcome = match super::bounds::refusal(delivered, is_newer(schema)) {
        Some(reason) => {
            let subject = S::SPEC.subject;
            inv.core.refuse(subject, &body, delivered, &reason).await
        }
        // Written by a newer build: its caller retries, and a newer copy takes it.
        None if is_newer(schema) => return retry_after(NEWER_SCHEMA_DELAY),
        None => {
            let subject = S::SPEC.subject;
            inv.core.process(subject, &body, delivered, true).await
        }
    };
    match outcome {
        Outcome::Done => (StatusCode::OK, "done").into_response(),
        Outcome::Retry(delay) => retry_after(delay),
        Outcome::Defer(delay) => {
            // Not a failure: a bridge holds the message and asks again with the same count.
            let mut r = retry_after(delay);
            r.headers_mut()
                .insert(DEFER_HEADER, HeaderValue::from_static("1"));
            r
        }
        Outcome::Dropped => (StatusCode::UNPROCESSABLE_ENTITY, "dropped").into_response(),
    }
}

/// 503 with `Retry-After` (whole seconds, at least one).
fn retry_after(delay: std::time::Duration) -> Response {
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, "retry").into_response();
    let secs = delay.as_secs().max(1).to_string();
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&secs).expect("digits"),
    );
    r
}

/// Serves the router under Lambda or on `addr` until SIGTERM/SIGINT.
pub async fn run_http<S: Stage>(
    core: Arc<Core<S>>,
    auth: InvokeAuth,
    addr: &str,
) -> Result<(), std::io::Error> {
    serve(S::SPEC.name, http_router(core, auth), addr).await
}

/// Small responses go out at once: without TCP_NODELAY a response written in two pieces can
/// wait for the peer's delayed ACK (up to 40 ms on Linux).
pub fn no_delay(stream: &mut tokio::net::TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
}

/// Serves any router of function `name` through the AWS Lambda runtime when
/// `AWS_LAMBDA_RUNTIME_API` is set, else on `addr`, until SIGTERM/SIGINT.
pub async fn serve(name: &str, app: Router, addr: &str) -> Result<(), std::io::Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        crate::ops::set_bound();
        tracing::info!(function = name, "ready: serving through lambda_http");
        return lambda_http::run(app).await.map_err(std::io::Error::other);
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    crate::ops::set_bound();
    tracing::info!(function = name, addr = %listener.local_addr()?, "ready: serving HTTP");
    axum::serve(listener.tap_io(no_delay), app)
        .with_graceful_shutdown(shutdown::signal())
        .await
}
