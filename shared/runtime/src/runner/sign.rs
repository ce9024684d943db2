//! Signed `/invoke` requests: `X-Companion-Signature: t=<unix seconds>,id=<request id>,v2=<hex>`
//! where `v2` is HMAC-SHA256 with `INVOKE_SECRET` over
//! `"v2\n<stage>\n<delivery count>\n<request id>\n<t>\n<body>"`. The stage is the function the
//! request is meant for, so a body signed for one stage is refused by every other; the
//! delivery count (`X-Delivery-Count`) is covered, so nobody can push a message towards its
//! dead letter by raising it; the request id (fresh for every request, see [`new_id`]) lets the
//! receiver refuse a second use of one signature (`super::replay`); the timestamp must be
//! within five minutes of the receiver's clock, so a captured request cannot be used later
//! than that. The MAC is compared in constant time.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-companion-signature";
/// How far the signer's clock may be from ours.
pub const TOLERANCE_SECS: i64 = 300;
/// Longest request id accepted.
const MAX_ID_LEN: usize = 64;

/// What a signature covers besides the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The stage (function name) the request is for.
    pub stage: &'a str,
    /// The message's delivery count, as sent in `X-Delivery-Count`.
    pub delivered: i64,
    /// The request's own id (letters, digits, `-`, `_`; at most 64).
    pub id: &'a str,
    /// Unix seconds when it was signed.
    pub t: i64,
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// No signature header, or one that cannot be read.
    #[error("no readable signature")]
    Malformed,
    /// The timestamp is too far from now.
    #[error("signature time {t} is more than {TOLERANCE_SECS} s from now")]
    Stale {
        /// The signed time.
        t: i64,
    },
    /// The MAC does not match (another key, stage, count, id, time or body).
    #[error("signature does not match this stage, delivery count and body")]
    Mismatch,
}

/// A fresh request id (a random UUID, 32 hex digits).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn mac(secret: &[u8], s: &Signed<'_>, body: &[u8]) -> hmac::Hmac<Sha256> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    let head = format!("v2\n{}\n{}\n{}\n{}\n", s.stage, s.delivered, s.id, s.t);
    mac.update(head.as_bytes());
    mac.update(body);
    mac
}

/// The header value signing `body` with what `s` names.
pub fn sign(secret: &[u8], s: &Signed<'_>, body: &[u8]) -> String {
    let tag = mac(secret, s, body).finalize().into_bytes();
    format!("t={},id={},v2={}", s.t, s.id, hex::encode(tag))
}

/// Checks `header` as a signature of `body` for `stage` at delivery `delivered`, at a time
/// within the tolerance of `now`; returns what was signed (its id and time, for the replay
/// check).
pub fn verify<'h>(
    secret: &[u8],
    header: &'h str,
    stage: &str,
    delivered: i64,
    body: &[u8],
    now: i64,
) -> Result<(&'h str, i64), SignError> {
    let (mut t, mut id, mut v2) = (None, None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("id", v)) => id = Some(v),
            Some(("v2", v)) => v2 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(id), Some(v2)) = (t, id, v2) else {
        return Err(SignError::Malformed);
    };
    if secret.is_empty() || !valid_id(id) {
        return Err(SignError::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignError::Stale { t });
    }
    let signed = Signed {
        stage,
        delivered,
        id,
        t,
    };
    mac(secret, &signed, body)
        .verify_slice(&v2)
        .map_err(|_| SignError::Mismatch)?;
    Ok((id, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Signed<'static> = Signed {
        stage: "fn-reply",
        delivered: 1,
        id: "abc123",
        t: 1000,
    };

    fn check(h: &str, s: &Signed<'_>, body: &[u8], now: i64) -> Result<(), SignError> {
        verify(b"k", h, s.stage, s.delivered, body, now).map(|_| ())
    }

    #[test]
    fn a_fresh_signature_verifies_and_anything_else_does_not() {
        let h = sign(b"k", &S, b"body");
        assert_eq!(
            verify(b"k", &h, "fn-reply", 1, b"body", 1000),
            Ok(("abc123", 1000))
        );
        assert!(check(&h, &S, b"body", 1000 + TOLERANCE_SECS).is_ok());
        assert_eq!(
            check(&h, &S, b"body", 1000 + TOLERANCE_SECS + 1),
            Err(SignError::Stale { t: 1000 }),
            "used later"
        );
        assert_eq!(check(&h, &S, b"bodY", 1000), Err(SignError::Mismatch));
        assert!(verify(b"other", &h, "fn-reply", 1, b"body", 1000).is_err());
        let unkeyed = sign(b"", &S, b"body");
        assert!(verify(b"", &unkeyed, "fn-reply", 1, b"body", 1000).is_err());
        for bad in [
            "t=1000",
            "garbage",
            "t=1000,v2=00",
            "t=1000,id=a.b,v2=00",
            "",
        ] {
            assert_eq!(
                check(bad, &S, b"body", 1000),
                Err(SignError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_stage_count_and_id_are_covered() {
        let h = sign(b"k", &S, b"body");
        let other_stage = Signed {
            stage: "fn-image",
            ..S
        };
        assert_eq!(
            check(&h, &other_stage, b"body", 1000),
            Err(SignError::Mismatch)
        );
        let raised = Signed { delivered: 6, ..S };
        assert_eq!(check(&h, &raised, b"body", 1000), Err(SignError::Mismatch));
        // The id in the header is what was signed: changing it breaks the MAC.
        let swapped = h.replace("id=abc123", "id=abc124");
        assert_eq!(check(&swapped, &S, b"body", 1000), Err(SignError::Mismatch));
        // An old-style (v1: time and body only) signature is not accepted.
        assert_eq!(
            check("t=1000,v1=00ff", &S, b"body", 1000),
            Err(SignError::Malformed)
        );
        let id = new_id();
        assert!(valid_id(&id) && id.len() == 32 && id != new_id());
    }
}
