//! The one error type a stage hands back to its runner: transient (retry later, counted as a
//! failed try), deferred (not a failure: the job must wait its turn) or permanent (give up,
//! record, tell the user). It is exactly what the runner needs to ack, nak or term.

use std::time::Duration;

/// What went wrong in a handler, classified for the runner.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying: a broker or database blip, an API timeout, 5xx or 429.
    #[error("transient: {reason}")]
    Transient {
        /// What happened (never holds a secret).
        reason: String,
        /// When to retry; `None` lets the runner back off by delivery count.
        retry_after: Option<Duration>,
    },
    /// Not a failure: the job must wait (an earlier message of its dialog, a paced or paused
    /// chat). The runner parks it for `delay` without holding a slot and without using up a
    /// delivery.
    #[error("deferred: {reason}")]
    Defer {
        /// Why it waits.
        reason: String,
        /// How long.
        delay: Duration,
    },
    /// Retrying cannot help: bad input, a rejected request, a missing row.
    #[error("permanent: {reason}")]
    Permanent {
        /// What happened (never holds a secret).
        reason: String,
    },
}

impl HandlerError {
    /// A transient error with the runner's own backoff.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }
    /// A transient error to retry after `delay`.
    pub fn retry_after(reason: impl Into<String>, delay: Duration) -> Self {
        Self::Transient {
            reason: reason.into(),
            retry_after: Some(delay),
        }
    }
    /// A job that must wait `delay` before it can go on.
    pub fn defer(reason: impl Into<String>, delay: Duration) -> Self {
        Self::Defer {
            reason: reason.into(),
            delay,
        }
    }
    /// A permanent error.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
        }
    }
    /// What happened, without the kind.
    pub fn reason(&self) -> &str {
        match self {
            Self::Transient { reason, .. }
            | Self::Defer { reason, .. }
            | Self::Permanent { reason } => reason,
        }
    }
    /// True for errors worth retrying.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Defer { .. })
    }
}

impl From<sqlx::Error> for HandlerError {
    /// Classified by what happened, not by where: a value PostgreSQL refuses (bad encoding,
    /// too long, out of range, a constraint it breaks) fails the same way every time, so it is
    /// permanent; a dropped connection, a pool timeout, a server shutting down, a serialisation
    /// conflict or a unique-key race may pass, so it is transient.
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::permanent("a row the job refers to is gone"),
            sqlx::Error::Database(db) if refuses_value(db.code().as_deref()) => {
                Self::permanent(format!("database refused the data: {db}"))
            }
            e @ (sqlx::Error::Encode(_)
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::TypeNotFound { .. }) => Self::permanent(format!("database: {e}")),
            other => Self::transient(format!("database: {other}")),
        }
    }
}

/// Whether SQLSTATE `code` says the statement's data can never be stored as it is: a data
/// exception (class 22: invalid encoding such as U+0000, too long, out of range), a broken
/// not-null, foreign-key or check constraint, or a program limit (class 54). A unique
/// violation (23505) is left transient: it is how a lost race shows, and the retry sees the
/// winner's row.
fn refuses_value(code: Option<&str>) -> bool {
    let Some(code) = code else { return false };
    code.starts_with("22") || code.starts_with("54") || matches!(code, "23502" | "23503" | "23514")
}

impl From<async_nats::Error> for HandlerError {
    fn from(e: async_nats::Error) -> Self {
        Self::transient(format!("nats: {e}"))
    }
}

/// Backoff for the n-th delivery (1-based): 1 s, 2 s, 4 s … capped at 60 s.
pub fn backoff(delivered: i64) -> Duration {
    let exp = (delivered.clamp(1, 7) - 1) as u32;
    Duration::from_secs((1u64 << exp).min(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(100), Duration::from_secs(60));
    }

    #[test]
    fn missing_rows_are_permanent_other_db_errors_transient() {
        assert!(!HandlerError::from(sqlx::Error::RowNotFound).is_transient());
        assert!(HandlerError::from(sqlx::Error::PoolTimedOut).is_transient());
    }

    #[test]
    fn refused_values_are_permanent_races_are_not() {
        for code in [
            "22021", "22P05", "22001", "22003", "23502", "23503", "23514", "54000",
        ] {
            assert!(refuses_value(Some(code)), "{code}");
        }
        for code in ["23505", "40001", "40P01", "57P01", "08006", "53300"] {
            assert!(!refuses_value(Some(code)), "{code}");
        }
        assert!(!refuses_value(None));
    }
}
