//! One message, one signed `POST` to its stage's `/invoke` (the signature covers the stage, the
//! delivery count, a fresh request id, the time and the body), and what the answer means:
//! 2xx ack; 503 with `X-Companion-Defer` held and asked again with the same delivery count
//! (the function is waiting its turn); other 503s and 429 (a Lambda function URL that is
//! throttled) nak with the function's `Retry-After`; 422 terminated (the function stored the
//! message as a dead letter and told the user); anything else — no answer, a timeout, a 5xx,
//! a refused signature — nak with the runner's back-off, so nothing is lost while a function
//! is down or misconfigured.

use std::time::{Duration, Instant};

use async_nats::jetstream::Message;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use runtime::config::Secret;
use runtime::envelope::SCHEMA_HEADER;
use runtime::error::backoff;
use runtime::runner::{
    DEFER_HEADER, DELIVERY_HEADER, Outcome, SIGNATURE_HEADER, Signed, new_id, sign,
};

use crate::Route;

/// Headers of the NATS message passed on to the function.
const PASSED_ON: [&str; 3] = [
    SCHEMA_HEADER,
    runtime::telemetry::trace::TRACEPARENT,
    runtime::telemetry::hops::PUBLISHED_HEADER,
];

/// Longest delay a function may ask for before the message is offered again.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// Posts messages to functions.
pub struct Forwarder {
    http: reqwest::Client,
    secret: Secret,
}

impl Forwarder {
    /// A client whose requests give up after `timeout`.
    pub fn new(secret: Secret, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self { http, secret })
    }

    /// Posts `msg` (delivered for the `delivered`-th time) to `route` and says what to do
    /// with it.
    pub async fn forward(&self, route: &Route, msg: &Message, delivered: i64) -> Outcome {
        let stage = route.stage.name;
        let id = new_id();
        let signed = Signed {
            stage,
            delivered,
            id: &id,
            t: chrono::Utc::now().timestamp(),
        };
        let signature = sign(self.secret.expose().as_bytes(), &signed, &msg.payload);
        let mut request = self
            .http
            .post(&route.url)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, delivered.to_string());
        for name in PASSED_ON {
            if let Some(v) = msg.headers.as_ref().and_then(|h| h.get(name)) {
                request = request.header(name, v.as_str());
            }
        }
        let in_flight = metrics::gauge!("companion_in_flight", "stage" => stage);
        in_flight.increment(1.0);
        let started = Instant::now();
        let sent = request.body(msg.payload.clone()).send().await;
        in_flight.decrement(1.0);
        metrics::histogram!("companion_handle_seconds", "stage" => stage)
            .record(started.elapsed().as_secs_f64());
        let outcome = match sent {
            Ok(response) => {
                let status = response.status();
                let outcome = verdict(status, response.headers(), delivered);
                if !status.is_success() {
                    explain(stage, status, &response.text().await.unwrap_or_default());
                }
                outcome
            }
            Err(e) => {
                tracing::warn!(stage, error = %e, delivered, "function did not answer; will retry");
                Outcome::Retry(backoff(delivered))
            }
        };
        let label = match outcome {
            Outcome::Done => "ack",
            Outcome::Retry(_) => "nak",
            Outcome::Defer(_) => "defer",
            Outcome::Dropped => "term",
        };
        metrics::counter!("companion_messages_total", "stage" => stage, "outcome" => label)
            .increment(1);
        outcome
    }
}

/// What a function's answer means for its message.
pub fn verdict(status: StatusCode, headers: &HeaderMap, delivered: i64) -> Outcome {
    let asked = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    match status.as_u16() {
        200..=299 => Outcome::Done,
        422 => Outcome::Dropped,
        503 if headers.contains_key(DEFER_HEADER) => {
            Outcome::Defer(asked.unwrap_or(Duration::from_secs(1)))
        }
        503 | 429 => Outcome::Retry(asked.unwrap_or_else(|| backoff(delivered))),
        _ => Outcome::Retry(backoff(delivered)),
    }
}

fn explain(stage: &str, status: StatusCode, body: &str) {
    let body: String = body.chars().take(200).collect();
    match status.as_u16() {
        503 | 429 => tracing::debug!(stage, %status, "function asked to retry later"),
        422 => tracing::warn!(
            stage,
            "function dropped the message (stored as a dead letter)"
        ),
        401 | 403 => tracing::error!(
            stage, %status, %body,
            "function refused the signature: INVOKE_SECRET differs between bridge and function"
        ),
        _ => tracing::error!(stage, %status, %body, "function failed; will retry"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn answers_map_to_what_happens_to_the_message() {
        let none = HeaderMap::new();
        let s = |c| StatusCode::from_u16(c).unwrap();
        assert_eq!(verdict(s(200), &none, 1), Outcome::Done);
        assert_eq!(verdict(s(204), &none, 1), Outcome::Done);
        assert_eq!(verdict(s(422), &none, 1), Outcome::Dropped);
        let later = with(&[("retry-after", "7")]);
        assert_eq!(
            verdict(s(503), &later, 1),
            Outcome::Retry(Duration::from_secs(7))
        );
        assert_eq!(
            verdict(s(429), &later, 1),
            Outcome::Retry(Duration::from_secs(7))
        );
        let turn = with(&[("retry-after", "2"), (DEFER_HEADER, "1")]);
        assert_eq!(
            verdict(s(503), &turn, 3),
            Outcome::Defer(Duration::from_secs(2))
        );
        let huge = with(&[("retry-after", "999999")]);
        assert_eq!(verdict(s(503), &huge, 1), Outcome::Retry(MAX_RETRY_AFTER));
        // Failures that say nothing back off with the delivery count, and are never dropped.
        for code in [500, 502, 504, 401, 403, 404, 413, 400] {
            assert_eq!(verdict(s(code), &none, 3), Outcome::Retry(backoff(3)));
        }
        let date = with(&[("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")]);
        assert_eq!(verdict(s(503), &date, 2), Outcome::Retry(backoff(2)));
    }

    #[test]
    fn what_the_http_runner_answers_reads_back_as_the_same_outcome() {
        let secs = Duration::from_secs;
        for outcome in [
            Outcome::Done,
            Outcome::Retry(secs(4)),
            Outcome::Defer(secs(2)),
            Outcome::Dropped,
        ] {
            let reply = outcome.reply();
            let mut headers = HeaderMap::new();
            if let Some(s) = reply.retry_after_s {
                headers.insert(RETRY_AFTER, HeaderValue::from(s));
            }
            if reply.defer {
                headers.insert(DEFER_HEADER, HeaderValue::from_static("1"));
            }
            let status = StatusCode::from_u16(reply.status.as_u16()).unwrap();
            assert_eq!(verdict(status, &headers, 1), outcome, "{reply:?}");
        }
    }
}
