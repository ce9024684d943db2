//! W3C Trace Context across the functions. Every message has our own trace id (`upd-<id>` for
//! an update and all the jobs it leads to); its W3C trace id is derived from it (the first 16
//! bytes of its SHA-256, or itself when it already is one), so every function computes the
//! same one without storing it. The runner handles each message inside [`scope`], which makes
//! it [`current`]: the log span carries it as `trace_id`, and every publish (`traceparent`
//! header on NATS messages) and outside HTTP call (LLM, image API, Telegram) sends it on.

use sha2::{Digest, Sha256};

tokio::task_local! {
    static CURRENT: String;
}

/// The W3C trace id (32 lowercase hex digits) of our trace id `ours`.
pub fn w3c_id(ours: &str) -> String {
    let hex32 = ours.len() == 32 && ours.bytes().all(|b| b.is_ascii_hexdigit());
    if hex32 && ours != "00000000000000000000000000000000" {
        return ours.to_ascii_lowercase();
    }
    hex::encode(&Sha256::digest(ours.as_bytes())[..16])
}

/// The W3C header carrying a trace (NATS messages and HTTP calls).
pub const TRACEPARENT: &str = "traceparent";

/// A `traceparent` header value for trace `trace_id` (W3C form), with a fresh span id.
pub fn traceparent(trace_id: &str) -> String {
    let span = uuid::Uuid::new_v4().as_u128() as u64 | 1;
    format!("00-{trace_id}-{span:016x}-01")
}

/// The trace id of a `traceparent` header value, when it is a valid one.
pub fn parse(header: &str) -> Option<String> {
    let mut parts = header.trim().split('-');
    let (version, trace, span, _flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(version, 2) && hex(trace, 32) && hex(span, 16) && trace.bytes().any(|b| b != b'0'))
        .then(|| trace.to_ascii_lowercase())
}

/// Runs `work` with `trace_id` (W3C form) as the current trace.
pub fn scope<F: std::future::Future>(
    trace_id: String,
    work: F,
) -> impl std::future::Future<Output = F::Output> {
    // Not an `async fn`: a future passed by value into one takes its room twice.
    CURRENT.scope(trace_id, work)
}

/// The trace of the message being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A `traceparent` for the current trace, if there is one.
pub fn current_parent() -> Option<String> {
    current().map(|t| traceparent(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_headers_round_trip() {
        let a = w3c_id("upd-42");
        assert_eq!(a.len(), 32);
        assert_eq!(a, w3c_id("upd-42"), "every function derives the same");
        assert_ne!(a, w3c_id("upd-43"));
        assert_eq!(w3c_id(&a), a, "a W3C id stays itself");
        let header = traceparent(&a);
        assert_eq!(parse(&header), Some(a.clone()));
        assert_eq!(header.len(), 55);
        for bad in [
            "",
            "00-abc-def-01",
            "00-00000000000000000000000000000000-0000000000000001-01",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn the_current_trace_is_the_scope_s() {
        assert_eq!(current(), None);
        let t = w3c_id("upd-1");
        let inside = scope(t.clone(), async { current() }).await;
        assert_eq!(inside, Some(t));
    }
}
