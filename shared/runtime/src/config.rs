//! Typed configuration read from the environment.
//!
//! Each function builds its own settings struct with an [`Env`] reader, which collects every
//! problem (missing, unparsable, out of range) instead of stopping at the first, so a broken
//! deployment is fixed in one round. Secrets are wrapped in [`Secret`], whose `Debug` and
//! `Display` never show the value.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A value that must never reach a log line (bot token, API keys, webhook secret).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value itself; call only where it is sent to the service it belongs to.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// True when no value was configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Every problem found in the environment, reported at once.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

type Lookup = Box<dyn Fn(&str) -> Option<String>>;

/// Reads variables and remembers what was wrong with them.
pub struct Env {
    lookup: Lookup,
    problems: Vec<String>,
}

impl Env {
    /// Reads from any lookup function (tests use a map).
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + 'static) -> Self {
        Self {
            lookup: Box::new(lookup),
            problems: Vec::new(),
        }
    }

    /// Reads from fixed `(name, value)` pairs (the crate's tests).
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::from_fn(move |k| map.get(k).cloned())
    }

    fn raw(&self, key: &str) -> Option<String> {
        (self.lookup)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A string with a default.
    pub fn string(&mut self, key: &str, default: &str) -> String {
        self.raw(key).unwrap_or_else(|| default.to_owned())
    }

    /// A string that must be set.
    pub fn required(&mut self, key: &str) -> String {
        self.raw(key).unwrap_or_else(|| {
            self.problems.push(format!("{key} is required but not set"));
            String::new()
        })
    }

    /// A secret that must be set; the value is never echoed in problems.
    pub fn secret(&mut self, key: &str) -> Secret {
        Secret(self.required(key))
    }

    /// A secret that may be absent.
    pub fn optional_secret(&mut self, key: &str) -> Secret {
        Secret(self.raw(key).unwrap_or_default())
    }

    /// A parsed value with a default.
    pub fn parse<T: FromStr>(&mut self, key: &str, default: T) -> T {
        match self.raw(key) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                self.problems
                    .push(format!("{key}={v:?} is not a valid {}", short_type::<T>()));
                default
            }),
        }
    }

    /// A whole number of seconds, at least `min`.
    pub fn seconds(&mut self, key: &str, default: u64, min: u64) -> Duration {
        let v = self.parse(key, default);
        if v < min {
            self.problems
                .push(format!("{key} must be at least {min} seconds, got {v}"));
        }
        Duration::from_secs(v.max(min))
    }

    /// An http(s) URL without a trailing slash.
    pub fn url(&mut self, key: &str, default: &str) -> String {
        let v = self.string(key, default);
        if !(v.starts_with("http://") || v.starts_with("https://")) {
            self.problems
                .push(format!("{key}={v:?} must start with http:// or https://"));
        }
        v.trim_end_matches('/').to_owned()
    }

    /// Records a problem found by a caller's own check.
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    /// Ends reading: `Err` lists every problem.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(self.problems))
        }
    }
}

fn short_type<T>() -> &'static str {
    std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("value")
}

/// Telegram settings for functions that answer users.
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    /// Bot token; part of every Bot API URL, so never logged.
    pub bot_token: Secret,
    /// Bot API base URL (a stand-in in tests and local runs).
    pub api_url: String,
}

impl TelegramSettings {
    /// Reads `BOT_TOKEN` and `TELEGRAM_API_URL`.
    pub fn read(env: &mut Env) -> Self {
        Self {
            bot_token: env.secret("BOT_TOKEN"),
            api_url: env.url("TELEGRAM_API_URL", "https://api.telegram.org"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    #[test]
    fn every_problem_is_listed_and_secrets_are_not_echoed() {
        let mut e = env(&[
            ("ACK_WAIT_SECS", "soon"),
            ("TELEGRAM_API_URL", "ftp://x"),
            ("RUNNER", "x"),
            ("ADMIN_TZ", "Mars Base; DROP"),
            ("SESSION_GAP_MINUTES", "0"),
        ]);
        let _ = crate::app::CommonSettings::read(&mut e);
        let tg = TelegramSettings::read(&mut e);
        let err = e.finish().unwrap_err().to_string();
        for needle in [
            "DATABASE_URL",
            "ACK_WAIT_SECS",
            "TELEGRAM_API_URL",
            "BOT_TOKEN",
            "RUNNER",
            "ADMIN_TZ",
            "SESSION_GAP_MINUTES",
        ] {
            assert!(err.contains(needle), "{needle} missing from {err}");
        }
        assert_eq!(format!("{:?}", tg.bot_token), "Secret(***)");
    }

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("123:abc");
        assert!(!format!("{s} {s:?}").contains("abc"));
        assert_eq!(s.expose(), "123:abc");
    }
}
