//! Telegram's answer envelope — `{"ok", "result", "error_code", "description",
//! "parameters": {"retry_after"}}` — read in one place for every call, sending or polling, and
//! what a refusal means for a sender. A caller that is not a sender (polling) decides its own
//! waits from the same [`Refusal`].

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::Secret;

/// What a refused or failed call means for the sender.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TgError {
    /// 429: wait exactly this long.
    #[error("telegram asked to wait {0:?}")]
    RetryAfter(Duration),
    /// 403 blocked / deactivated, or 400 chat not found: the chat cannot be written to.
    #[error("chat unreachable: {0}")]
    Unreachable(String),
    /// An edit with the content the message already has: nothing to do.
    #[error("message is not modified")]
    NotModified,
    /// Network trouble, 5xx, a garbled answer, or our own token refused: try again later.
    #[error("telegram transient: {0}")]
    Transient(String),
    /// Telegram refused this request for good (bad parameters, too old a callback).
    #[error("telegram refused: {0}")]
    Permanent(String),
}

/// Why a call brought back no result, before anyone decided what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// Telegram answered `ok: false`.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// No answer in Telegram's envelope: the network, a timeout, or a body that is not one.
    #[error("no answer: {0}")]
    Unanswered(String),
}

/// Telegram's `ok: false`: its error code (the HTTP status when the body has none), its
/// description (the token redacted) and the `retry_after` it asked for, in seconds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {description}")]
pub struct Refusal {
    /// `error_code`, or the HTTP status.
    pub code: u16,
    /// `description`.
    pub description: String,
    /// `parameters.retry_after`, as sent.
    pub retry_after: Option<f64>,
}

impl Refusal {
    /// The wait Telegram asked for, if a usable one (bounded by [`crate::http::MAX_DELAY`]).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.and_then(crate::http::seconds)
    }

    /// What a sender does about it.
    pub fn sort(&self) -> TgError {
        sort(self.code, &self.description, self.retry_after)
    }
}

impl From<Failure> for TgError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(r) => r.sort(),
            Failure::Unanswered(why) => TgError::Transient(why),
        }
    }
}

#[derive(Deserialize)]
struct Answer<T> {
    ok: bool,
    #[serde(default = "none")]
    result: Option<T>,
    #[serde(default)]
    error_code: u16,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Parameters>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<f64>,
}

/// Reads the body of `method`'s answer (HTTP `status`): its `result`, or why there is none.
pub(crate) fn read<T: DeserializeOwned + Default>(
    method: &str,
    status: u16,
    body: &[u8],
    token: &Secret,
) -> Result<T, Failure> {
    let answer: Answer<T> = serde_json::from_slice(body).map_err(|_| {
        Failure::Unanswered(format!(
            "{method}: HTTP {status} with a body that is not JSON"
        ))
    })?;
    if answer.ok {
        return Ok(answer.result.unwrap_or_default());
    }
    Err(Failure::Refused(Refusal {
        code: if answer.error_code == 0 {
            status
        } else {
            answer.error_code
        },
        description: super::redact(&answer.description, token),
        retry_after: answer.parameters.and_then(|p| p.retry_after),
    }))
}

/// Sorts a Bot API error by what the sender must do.
pub fn sort(code: u16, description: &str, retry_after: Option<f64>) -> TgError {
    let d = description.to_ascii_lowercase();
    match code {
        429 => TgError::RetryAfter(
            retry_after
                .and_then(crate::http::seconds)
                .unwrap_or(crate::http::DEFAULT_RATE_LIMIT_DELAY),
        ),
        400 if d.contains("message is not modified") => TgError::NotModified,
        403 => TgError::Unreachable(description.to_owned()),
        400 if d.contains("chat not found") || d.contains("user not found") => {
            TgError::Unreachable(description.to_owned())
        }
        // Our own token refused, or a method missing: configuration, not this message.
        401 | 404 | 500..=599 => TgError::Transient(format!("{code} {description}")),
        _ => TgError::Permanent(format!("{code} {description}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use serde_json::value::RawValue;

    use super::*;

    fn token() -> Secret {
        Secret::new("123456:AAbbCC")
    }

    #[test]
    fn an_answer_gives_its_result_and_raw_updates_keep_their_bytes() {
        let v: Value = read(
            "sendMessage",
            200,
            br#"{"ok":true,"result":{"message_id":5}}"#,
            &token(),
        )
        .unwrap();
        assert_eq!(v["message_id"], 5);
        let v: Value = read("deleteWebhook", 200, br#"{"ok":true}"#, &token()).unwrap();
        assert_eq!(v, Value::Null);
        let body = br#"{"ok":true,"result":[{"update_id":7,  "new_kind":{"x":1}}]}"#;
        let raw: Vec<Box<RawValue>> = read("getUpdates", 200, body, &token()).unwrap();
        assert_eq!(raw[0].get(), r#"{"update_id":7,  "new_kind":{"x":1}}"#);
    }

    #[test]
    fn a_refusal_keeps_code_description_and_retry_after() {
        let body = br#"{"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active"}"#;
        let Err(Failure::Refused(r)) = read::<Value>("getUpdates", 409, body, &token()) else {
            panic!("a refusal");
        };
        assert_eq!(r.code, 409);
        assert!(r.description.starts_with("Conflict"));
        assert_eq!(r.retry_after(), None);
        let body = br#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":3}}"#;
        let Err(Failure::Refused(r)) = read::<Value>("getUpdates", 429, body, &token()) else {
            panic!("a refusal");
        };
        assert_eq!(r.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(r.sort(), TgError::RetryAfter(Duration::from_secs(3)));
        // No code in the body: the HTTP status; the token never comes back.
        let body = br#"{"ok":false,"description":"bot123456:AAbbCC is not known"}"#;
        let Err(Failure::Refused(r)) = read::<Value>("getMe", 401, body, &token()) else {
            panic!("a refusal");
        };
        assert_eq!(
            (r.code, r.description.as_str()),
            (401, "bot*** is not known")
        );
    }

    #[test]
    fn a_body_that_is_not_an_answer_is_no_answer() {
        for body in [&b"<html>Bad Gateway</html>"[..], br#"{"result":[]}"#] {
            let f = read::<Value>("getUpdates", 502, body, &token()).unwrap_err();
            assert!(matches!(f, Failure::Unanswered(_)), "{f:?}");
            assert!(matches!(TgError::from(f), TgError::Transient(_)));
        }
    }

    #[test]
    fn errors_are_sorted_by_what_the_sender_does() {
        assert_eq!(
            sort(429, "Too Many Requests: retry after 7", Some(7.0)),
            TgError::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            sort(429, "Too Many Requests", Some(f64::NAN)),
            TgError::RetryAfter(crate::http::DEFAULT_RATE_LIMIT_DELAY)
        );
        assert!(matches!(
            sort(403, "Forbidden: bot was blocked by the user", None),
            TgError::Unreachable(_)
        ));
        assert!(matches!(
            sort(400, "Bad Request: chat not found", None),
            TgError::Unreachable(_)
        ));
        assert_eq!(
            sort(
                400,
                "Bad Request: message is not modified: specified new message content",
                None
            ),
            TgError::NotModified
        );
        assert!(matches!(
            sort(502, "Bad Gateway", None),
            TgError::Transient(_)
        ));
        assert!(matches!(
            sort(401, "Unauthorized", None),
            TgError::Transient(_)
        ));
        assert!(matches!(
            sort(400, "Bad Request: message text is empty", None),
            TgError::Permanent(_)
        ));
    }
}
