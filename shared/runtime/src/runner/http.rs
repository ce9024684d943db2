//! The HTTP runner: `POST /invoke` takes the same message body a JetStream subject carries.
//! Under AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) it is served by `lambda_http`, elsewhere
//! by a plain HTTP server. Status codes tell a caller (or the JetStream→HTTP bridge) what to
//! do: 200 ack, 503 + `Retry-After` retry (plus `X-Companion-Defer` when it waits its turn
//! rather than failed, so the caller keeps the delivery count), 422 dropped and recorded, 401
//! unsigned. Every request must carry an HMAC signature ([`super::sign`]) over this stage's
//! name, its delivery count, its id, its time and its body, and an id is accepted once
//! ([`super::replay`]), unless ops chose IAM-authorised Lambda function URLs, where AWS checks
//! the caller before the request reaches us.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;

use super::bounds::{Admission, admission};
use super::replay::{Admit, Replays};
use super::{Core, Outcome, Reply, Stage, sign};
use crate::config::Secret;
use crate::envelope::{SCHEMA_HEADER, is_newer};
use crate::shutdown;
use crate::telemetry::hops;

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
    /// Request ids already used (`None` with IAM, where AWS authenticates each call).
    replays: Option<Replays>,
}

/// Header carrying the delivery count (1-based) when a bridge retries.
pub const DELIVERY_HEADER: &str = "x-delivery-count";

/// Header on a 503 that means "not yet" (waiting its turn) rather than "failed".
pub const DEFER_HEADER: &str = "x-companion-defer";

/// The router: `POST /invoke`, `GET /healthz`; with HMAC auth, `replays` remembers the
/// request ids used (a request is refused without it).
pub fn http_router<S: Stage>(
    core: Arc<Core<S>>,
    auth: InvokeAuth,
    replays: Option<Replays>,
) -> Router {
    Router::new()
        .route("/invoke", post(invoke::<S>))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Arc::new(Invoke {
            core,
            auth,
            replays,
        }))
}

/// Whether a request may go ahead: `Err` is the answer when it may not.
async fn admitted<S: Stage>(
    inv: &Invoke<S>,
    headers: &HeaderMap,
    delivered: i64,
    body: &[u8],
) -> Result<(), Response> {
    let InvokeAuth::Hmac(secret) = &inv.auth else {
        return Ok(());
    };
    let stage = S::SPEC.name;
    let header = headers
        .get(sign::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = chrono::Utc::now().timestamp();
    let refused = |why: &str| {
        tracing::warn!(stage, why, "/invoke refused");
        (StatusCode::UNAUTHORIZED, "signature required").into_response()
    };
    let (id, _) = sign::verify(
        secret.expose().as_bytes(),
        header,
        stage,
        delivered,
        body,
        now,
    )
    .map_err(|e| refused(&e.to_string()))?;
    let Some(replays) = &inv.replays else {
        return Err(refused("no request id memory"));
    };
    match replays.admit(id).await {
        Admit::Fresh => Ok(()),
        Admit::Replayed => Err(refused("request id already used")),
        Admit::Unavailable => Err(retry_after(std::time::Duration::from_secs(1))),
    }
}

async fn invoke<S: Stage>(
    State(inv): State<Arc<Invoke<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Absent: a first delivery; present, it must be a count (the signature covers it).
    let delivered = match headers.get(DELIVERY_HEADER) {
        None => Some(1),
        Some(v) => v.to_str().ok().and_then(|v| v.parse::<i64>().ok()),
    };
    let Some(delivered) = delivered.filter(|n| *n >= 1) else {
        return (StatusCode::UNAUTHORIZED, "bad delivery count").into_response();
    };
    if let Err(refused) = admitted(&inv, &headers, delivered, &body).await {
        return refused;
    }
    let published = headers.get(hops::PUBLISHED_HEADER);
    let published = published.and_then(|v| v.to_str().ok());
    let arrival = hops::Arrival::new(S::SPEC.name, delivered, published);
    let schema = headers.get(SCHEMA_HEADER).and_then(|v| v.to_str().ok());
    let subject = S::SPEC.subject;
    let outcome = match admission(delivered, is_newer(schema)) {
        Admission::Refuse(reason) => inv.core.refuse(subject, &body, delivered, &reason).await,
        // Written by a newer build: its caller retries, and a newer copy takes it.
        Admission::GiveBack(delay) => Outcome::Retry(delay),
        Admission::Handle => inv.core.process(subject, &body, delivered, true).await,
    };
    arrival.settled();
    respond(outcome.reply())
}

/// The response for `reply`. A deferral is not a failure: a bridge holds the message and
/// asks again with the same count.
fn respond(reply: Reply) -> Response {
    let mut r = (reply.status, reply.body).into_response();
    if let Some(secs) = reply.retry_after_s {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if reply.defer {
        r.headers_mut()
            .insert(DEFER_HEADER, HeaderValue::from_static("1"));
    }
    r
}

/// 503 with `Retry-After` (whole seconds, at least one): a retry.
fn retry_after(delay: std::time::Duration) -> Response {
    respond(Outcome::Retry(delay).reply())
}

/// Serves the router under Lambda or on `addr` until SIGTERM/SIGINT (opening the request id
/// bucket first with HMAC auth).
pub async fn run_http<S: Stage>(
    core: Arc<Core<S>>,
    auth: InvokeAuth,
    js: &async_nats::jetstream::Context,
    addr: &str,
) -> Result<(), std::io::Error> {
    let replays = match auth {
        InvokeAuth::Hmac(_) => Some(Replays::open(js).await.map_err(std::io::Error::other)?),
        InvokeAuth::Iam => None,
    };
    serve(S::SPEC.name, http_router(core, auth, replays), addr).await
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
