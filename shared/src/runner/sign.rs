//! Signed `/invoke` bodies: `X-Companion-Signature: t=<unix seconds>,v1=<hex>` where `v1` is
//! HMAC-SHA256 with `INVOKE_SECRET` over `"<t>.<body>"`. The timestamp must be within five
//! minutes of the receiver's clock, so a captured request cannot be replayed later; the MAC is
//! compared in constant time.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-companion-signature";
/// How far the signer's clock may be from ours.
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &[u8], t: i64, body: &[u8]) -> hmac::Hmac<Sha256> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value signing `body` at time `t` (Unix seconds).
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let tag = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(tag))
}

/// Whether `header` is a valid signature of `body` at a time within the tolerance of `now`.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if secret.is_empty() || (now - t).abs() > TOLERANCE_SECS {
        return false;
    }
    mac(secret, t, body).verify_slice(&v1).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_signature_verifies_and_anything_else_does_not() {
        let h = sign(b"k", 1000, b"body");
        assert!(verify(b"k", &h, b"body", 1000));
        assert!(verify(b"k", &h, b"body", 1000 + TOLERANCE_SECS));
        assert!(
            !verify(b"k", &h, b"body", 1000 + TOLERANCE_SECS + 1),
            "replayed later"
        );
        assert!(!verify(b"k", &h, b"bodY", 1000), "body changed");
        assert!(!verify(b"other", &h, b"body", 1000), "other key");
        assert!(
            !verify(b"", &sign(b"", 1000, b"body"), b"body", 1000),
            "no key"
        );
        assert!(!verify(b"k", "t=1000", b"body", 1000));
        assert!(!verify(b"k", "garbage", b"body", 1000));
    }
}
