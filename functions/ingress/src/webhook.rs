//! Webhook mode: `POST /webhook` checks the secret header in constant time (403 otherwise),
//! limits the body size (413), requires a JSON object with an integer `update_id` (400), and
//! answers 200 only after JetStream stored the update (503 when the broker is down, so
//! Telegram retries). `GET /healthz` answers `ok`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use runtime::config::Secret;
use subtle::ConstantTimeEq;

use crate::publish::Publisher;
use crate::update_id;

/// Header Telegram sends with the secret given to `setWebhook`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

struct Hook {
    secret: Secret,
    publisher: Publisher,
}

/// The webhook router.
pub fn router(secret: Secret, publisher: Publisher, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/webhook", post(receive))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(Arc::new(Hook { secret, publisher }))
}

fn secret_matches(expected: &Secret, headers: &HeaderMap) -> bool {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    !expected.is_empty() && bool::from(given.ct_eq(expected.expose().as_bytes()))
}

async fn receive(
    State(hook): State<Arc<Hook>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    if !secret_matches(&hook.secret, &headers) {
        tracing::warn!("webhook call with a wrong or missing secret");
        return (StatusCode::FORBIDDEN, "forbidden");
    }
    let Some(id) = update_id(&body) else {
        tracing::warn!(bytes = body.len(), "webhook body is not an update");
        return (
            StatusCode::BAD_REQUEST,
            "expected a JSON object with an integer update_id",
        );
    };
    match hook.publisher.publish(id, body).await {
        Ok(duplicate) => {
            tracing::debug!(update_id = id, duplicate, "update stored");
            (StatusCode::OK, "ok")
        }
        Err(e) => {
            tracing::error!(error = %e, "update not stored; Telegram will retry");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_must_match_exactly() {
        let s = Secret::new("abc_DEF-1");
        let mut h = HeaderMap::new();
        assert!(!secret_matches(&s, &h));
        h.insert(SECRET_HEADER, "abc_DEF-".parse().unwrap());
        assert!(!secret_matches(&s, &h));
        h.insert(SECRET_HEADER, "abc_DEF-1".parse().unwrap());
        assert!(secret_matches(&s, &h));
        assert!(!secret_matches(&Secret::default(), &HeaderMap::new()));
    }
}
