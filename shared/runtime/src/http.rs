//! What every outside client (the LLM, the image and speech APIs, the Bot API) shares: the
//! client builder, and one classification of upstream answers — 429 waits for the server's
//! delay, 408 and 5xx retry, other 4xx are permanent. Delay headers are parsed defensively:
//! `nan`, negative, huge and HTTP-date values never panic and never stall a job for hours.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::HandlerError;

/// The longest delay an upstream may impose on one retry.
pub const MAX_DELAY: Duration = Duration::from_secs(300);
/// The delay after a 429 that named none.
pub const DEFAULT_RATE_LIMIT_DELAY: Duration = Duration::from_secs(5);

/// The builder every outside client starts from: each call bounded by `timeout`, a connection
/// by ten seconds.
pub fn client(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
}

/// Classifies a non-success status; `delay` is what the server asked for, if anything.
pub fn classify(status: u16, delay: Option<Duration>, reason: String) -> HandlerError {
    match status {
        429 => HandlerError::retry_after(reason, delay.unwrap_or(DEFAULT_RATE_LIMIT_DELAY)),
        408 | 500..=599 => HandlerError::Transient {
            reason,
            retry_after: delay,
        },
        _ => HandlerError::permanent(reason),
    }
}

/// Seconds (possibly fractional) as a bounded delay; `None` for anything that is not a
/// finite non-negative number.
pub fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::from_secs_f64(secs.min(MAX_DELAY.as_secs_f64())))
}

/// A `Retry-After` value: delta seconds or an HTTP-date (RFC 9110), bounded by [`MAX_DELAY`].
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return seconds(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = chrono::DateTime::<chrono::Utc>::from(now);
    let wait = (at.with_timezone(&chrono::Utc) - now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_DELAY))
}

/// A rate-limit reset given as a Unix timestamp (Venice's `x-ratelimit-reset-requests`), as a
/// delay of at least a second.
pub fn reset_at(value: &str, now: SystemTime) -> Option<Duration> {
    let reset: f64 = value
        .trim()
        .parse()
        .ok()
        .filter(|r: &f64| r.is_finite() && *r > 0.0)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    seconds((reset - now).max(1.0))
}

/// The delay a response asks for: `Retry-After`, else `x-ratelimit-reset-requests`.
pub fn delay_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
    let now = SystemTime::now();
    get("retry-after")
        .and_then(|v| retry_after(v, now))
        .or_else(|| get("x-ratelimit-reset-requests").and_then(|v| reset_at(v, now)))
}

/// A JSON `POST` to `url`, with the bearer `key` when there is one (a local stand-in may need
/// none).
pub fn post_json(
    http: &reqwest::Client,
    url: &str,
    key: &crate::config::Secret,
    body: &serde_json::Value,
) -> reqwest::RequestBuilder {
    let req = http.post(url).json(body);
    if key.is_empty() {
        req
    } else {
        req.bearer_auth(key.expose())
    }
}

/// Sends a request to an outside API (with the current `traceparent`), recording how long it took to answer (to the response's
/// headers: a streamed body follows) as `companion_api_seconds{api}` and every non-2xx answer
/// or unanswered request as `companion_api_errors_total{api, status}` ("none": no answer).
pub trait Timed {
    /// `send()`, timed and counted under `api`.
    fn timed(
        self,
        api: &'static str,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send;
}

impl Timed for reqwest::RequestBuilder {
    async fn timed(self, api: &'static str) -> reqwest::Result<reqwest::Response> {
        let started = std::time::Instant::now();
        let req = match crate::telemetry::trace::current_parent() {
            Some(parent) => self.header(crate::telemetry::trace::TRACEPARENT, parent),
            None => self,
        };
        let answer = req.send().await;
        let took = started.elapsed();
        crate::telemetry::hops::add(crate::telemetry::hops::Part::Outside, took);
        metrics::histogram!("companion_api_seconds", "api" => api).record(took.as_secs_f64());
        let failed = match &answer {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(r.status().as_u16().to_string()),
            Err(_) => Some("none".to_owned()),
        };
        if let Some(status) = failed {
            metrics::counter!("companion_api_errors_total", "api" => api, "status" => status)
                .increment(1);
        }
        answer
    }
}

/// The response when it succeeded; otherwise its status classified (with the server's delay
/// and the start of its body in the reason), `what` naming the upstream.
pub async fn success(
    resp: reqwest::Response,
    what: &str,
) -> Result<reqwest::Response, HandlerError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let delay = delay_of(resp.headers());
    let text = error_body(resp).await;
    Err(classify(
        status.as_u16(),
        delay,
        format!("{what} answered {status}: {text}"),
    ))
}

/// A request that got no answer (connection refused, reset, timed out): worth retrying. The
/// URL is left out, as it may hold a token.
pub fn unanswered(what: &str, e: reqwest::Error) -> HandlerError {
    HandlerError::transient(format!("{what} request: {}", e.without_url()))
}

/// Reads an error body for a log line: at most 300 characters, never failing.
pub async fn error_body(resp: reqwest::Response) -> String {
    resp.text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn delta_seconds_are_read_and_bounded() {
        assert_eq!(retry_after("7", now()), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(" 1.5 ", now()),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_after("99999999", now()), Some(MAX_DELAY));
        assert_eq!(retry_after("1e308", now()), Some(MAX_DELAY));
    }

    #[test]
    fn nan_infinite_negative_and_junk_are_ignored() {
        for v in ["nan", "NaN", "inf", "-inf", "-3", "", "soon"] {
            assert_eq!(retry_after(v, now()), None, "{v}");
            assert_eq!(reset_at(v, now()), None, "{v}");
        }
    }

    #[test]
    fn http_dates_become_delays() {
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        let later = "Tue, 14 Nov 2023 22:13:50 GMT";
        assert_eq!(retry_after(later, now()), Some(Duration::from_secs(30)));
        let past = "Tue, 14 Nov 2023 22:00:00 GMT";
        assert_eq!(retry_after(past, now()), Some(Duration::ZERO));
        let far = "Wed, 15 Nov 2023 22:13:20 GMT";
        assert_eq!(retry_after(far, now()), Some(MAX_DELAY));
    }

    #[test]
    fn reset_timestamps_are_relative_and_at_least_a_second() {
        assert_eq!(reset_at("1700000020", now()), Some(Duration::from_secs(20)));
        assert_eq!(reset_at("1600000000", now()), Some(Duration::from_secs(1)));
        assert_eq!(reset_at("9999999999999", now()), Some(MAX_DELAY));
    }

    #[test]
    fn statuses_are_classified() {
        let r = || "x".to_owned();
        assert!(matches!(
            classify(429, None, r()),
            HandlerError::Transient { retry_after: Some(d), .. } if d == DEFAULT_RATE_LIMIT_DELAY
        ));
        assert!(classify(502, None, r()).is_transient());
        assert!(classify(408, None, r()).is_transient());
        assert!(!classify(401, None, r()).is_transient());
        assert!(!classify(422, None, r()).is_transient());
    }
}
