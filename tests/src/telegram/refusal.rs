//! A refusal in Telegram's words, as the stand-in answers it: the `error_code`, the
//! `description` and, for a 429, `retry_after`. Both the per-chat rules (`rules`) and the field
//! checks (`strict`) refuse with it.

/// A refusal: `(error_code, description, retry_after)`.
pub type Refusal = (u16, String, Option<u64>);

/// A 400 "Bad Request: …" with Telegram's description `d`.
pub fn bad(d: &str) -> Refusal {
    (400, format!("Bad Request: {d}"), None)
}
