//! The HTTP runner: `POST /invoke` takes the same message body a JetStream subject carries.
//! Under AWS Lambda (`AWS_LAMBDA_RUNTIME_API` set) it is served by `lambda_http`, elsewhere
//! by a plain HTTP server. Status codes tell a caller (or the JetStream→HTTP bridge) what to
//! do: 200 ack, 503 + `Retry-After` retry, 422 dropped and recorded.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::{Core, Outcome, Stage};
use crate::shutdown;

/// Header carrying the delivery count (1-based) when a bridge retries.
pub const DELIVERY_HEADER: &str = "x-delivery-count";

/// The router: `POST /invoke`, `GET /healthz`.
pub fn http_router<S: Stage>(core: Arc<Core<S>>) -> Router {
    Router::new()
        .route("/invoke", post(invoke::<S>))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(core)
}

async fn invoke<S: Stage>(
    State(core): State<Arc<Core<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delivered = headers
        .get(DELIVERY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    match core.process(S::SPEC.subject, &body, delivered).await {
        Outcome::Done => (StatusCode::OK, "done").into_response(),
        Outcome::Retry(delay) => {
            let mut r = (StatusCode::SERVICE_UNAVAILABLE, "retry").into_response();
            let secs = delay.as_secs().max(1).to_string();
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&secs).expect("digits"),
            );
            r
        }
        Outcome::Dropped => (StatusCode::UNPROCESSABLE_ENTITY, "dropped").into_response(),
    }
}

/// Serves the router under Lambda or on `addr` until SIGTERM/SIGINT.
pub async fn run_http<S: Stage>(core: Arc<Core<S>>, addr: &str) -> Result<(), std::io::Error> {
    let app = http_router(core);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        tracing::info!(stage = S::SPEC.name, "ready: serving through lambda_http");
        return serve_lambda(app).await;
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(stage = S::SPEC.name, addr = %listener.local_addr()?, "ready: serving POST /invoke");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown::signal())
        .await
}

/// Serves any router through the AWS Lambda runtime (`AWS_LAMBDA_RUNTIME_API` must be set).
pub async fn serve_lambda(app: Router) -> Result<(), std::io::Error> {
    lambda_http::run(app).await.map_err(std::io::Error::other)
}
