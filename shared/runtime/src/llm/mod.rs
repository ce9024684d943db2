//! How a function talks to an OpenAI-compatible chat completions API (Venice, or any strict
//! OpenAI-compatible server): where it is and which dialect it speaks ([`Endpoint`], with
//! `LLM_FLAVOR`), the sampling settings checked against that dialect's ranges at start
//! ([`Sampling`]), the request body ([`request`]: Venice-only fields go to Venice only), one
//! client that sends it and sorts the refusals ([`client`]), and structured answers that step
//! down from `json_schema` to `json_object` to plain text when a server refuses the format,
//! remembering per process where it landed ([`structured`]). It lives in the runtime beside
//! the Telegram client because it is how a function reaches an outside service; what the
//! messages say is the caller's.

pub mod client;
pub mod request;
pub mod structured;

pub use client::{Failure, LlmClient, Refused, is_context_overflow};
pub use request::{ChatMessage, Request, ResponseFormat};
pub use structured::{Answer, Ladder, Level, StructuredError};

use std::ops::RangeInclusive;

use crate::config::{Env, Secret};

/// Venice's public API, the default endpoint.
pub const VENICE_DEFAULT: &str = "https://api.venice.ai/api/v1";

/// Which dialect of the chat completions API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Venice: OpenAI's fields plus `venice_parameters`; temperature strictly between 0 and 2.
    Venice,
    /// A strict OpenAI-compatible server: OpenAI's fields only; temperature 0 to 2.
    OpenAi,
}

impl Flavor {
    /// `LLM_FLAVOR`'s value for the API at `base_url`: `venice`, `openai`, or `auto` (Venice
    /// when the URL's host is venice.ai or under it, else OpenAI). `None` for another value.
    pub fn choose(setting: &str, base_url: &str) -> Option<Flavor> {
        match setting.trim().to_ascii_lowercase().as_str() {
            "venice" => Some(Flavor::Venice),
            "openai" => Some(Flavor::OpenAi),
            "auto" => Some(if is_venice_host(base_url) {
                Flavor::Venice
            } else {
                Flavor::OpenAi
            }),
            _ => None,
        }
    }

    /// The temperatures this dialect accepts.
    pub fn temperatures(self) -> Bounds {
        match self {
            // The OpenAPI file says 0–2; the live API refuses both ends.
            Flavor::Venice => Bounds {
                low: 0.0,
                high: 2.0,
                open: true,
            },
            Flavor::OpenAi => Bounds {
                low: 0.0,
                high: 2.0,
                open: false,
            },
        }
    }

    /// Its name in settings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Venice => "venice",
            Flavor::OpenAi => "openai",
        }
    }
}

/// Whether `url`'s host is `venice.ai` or one of its subdomains.
pub fn is_venice_host(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| h == "venice.ai" || h.ends_with(".venice.ai"))
}

/// A range of numbers, both ends included or both left out (`open`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Lower end.
    pub low: f32,
    /// Upper end.
    pub high: f32,
    /// Both ends are outside the range.
    pub open: bool,
}

impl Bounds {
    /// Whether `v` is in the range (never a NaN or an infinity).
    pub fn contains(&self, v: f32) -> bool {
        v.is_finite()
            && if self.open {
                v > self.low && v < self.high
            } else {
                (self.low..=self.high).contains(&v)
            }
    }

    /// The highest value a sender may use: the upper end, or a hundredth under it when open.
    pub fn highest(&self) -> f32 {
        if self.open {
            self.high - 0.01
        } else {
            self.high
        }
    }

    /// For messages: "strictly between 0 and 2 (0 < x < 2)" or "between 0 and 2, ends
    /// included (0 ≤ x ≤ 2)".
    pub fn describe(&self) -> String {
        let (low, high) = (self.low, self.high);
        if self.open {
            format!("strictly between {low} and {high} ({low} < x < {high})")
        } else {
            format!("between {low} and {high}, ends included ({low} ≤ x ≤ {high})")
        }
    }
}

/// Where the API is and how to talk to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL without `/chat/completions` (no trailing slash).
    pub base_url: String,
    /// Bearer key (may be empty for a local server).
    pub api_key: Secret,
    /// Model id.
    pub model: String,
    /// Its dialect.
    pub flavor: Flavor,
}

impl Endpoint {
    /// Reads `VENICE_API_BASE_URL`, `VENICE_API_KEY`, `VENICE_MODEL` and `LLM_FLAVOR`.
    pub fn read(env: &mut Env) -> Self {
        let base_url = env.url("VENICE_API_BASE_URL", VENICE_DEFAULT);
        let setting = env.string("LLM_FLAVOR", "auto");
        let flavor = Flavor::choose(&setting, &base_url).unwrap_or_else(|| {
            env.problem(format!(
                "LLM_FLAVOR={setting:?} must be `venice`, `openai` or `auto`"
            ));
            Flavor::OpenAi
        });
        Self {
            base_url,
            api_key: env.optional_secret("VENICE_API_KEY"),
            model: env.string("VENICE_MODEL", "venice-uncensored"),
            flavor,
        }
    }

    /// Whether the endpoint is Venice's own service, which cannot answer without a key.
    pub fn needs_key(&self) -> bool {
        self.api_key.is_empty() && is_venice_host(&self.base_url)
    }
}

/// The penalties every flavor accepts.
pub const PENALTIES: RangeInclusive<f32> = -2.0..=2.0;
/// How much warmer a second try is ([`Sampling::warmer`]).
pub const WARMER_BY: f32 = 0.25;
/// How much each penalty rises on a second try.
pub const PENALTY_UP_BY: f32 = 0.6;

/// Sampling settings, valid for the flavor they were read for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// Temperature.
    pub temperature: f32,
    /// Frequency penalty (0: none).
    pub frequency_penalty: f32,
    /// Presence penalty (0: none).
    pub presence_penalty: f32,
    /// The flavor's temperatures, for [`Sampling::warmer`].
    pub bounds: Bounds,
}

impl Sampling {
    /// Reads `LLM_TEMPERATURE` (default 0.8), `LLM_FREQUENCY_PENALTY` and
    /// `LLM_PRESENCE_PENALTY` (default 0), each checked against what `flavor` accepts.
    pub fn read(env: &mut Env, flavor: Flavor) -> Self {
        let bounds = flavor.temperatures();
        let temperature: f32 = env.parse("LLM_TEMPERATURE", 0.8);
        if !bounds.contains(temperature) {
            env.problem(format!(
                "LLM_TEMPERATURE={temperature} is out of range: with LLM_FLAVOR={} it must be {}",
                flavor.as_str(),
                bounds.describe()
            ));
        }
        let mut penalty = |key: &str| {
            let v: f32 = env.parse(key, 0.0);
            if !(v.is_finite() && PENALTIES.contains(&v)) {
                env.problem(format!(
                    "{key}={v} is out of range: it must be between -2 and 2"
                ));
            }
            v
        };
        Self {
            frequency_penalty: penalty("LLM_FREQUENCY_PENALTY"),
            presence_penalty: penalty("LLM_PRESENCE_PENALTY"),
            temperature,
            bounds,
        }
    }

    /// Fixed sampling (a caller's own constant), checked by the caller's tests.
    pub fn fixed(temperature: f32, flavor: Flavor) -> Self {
        Self {
            temperature,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            bounds: flavor.temperatures(),
        }
    }

    /// A second try after an answer that repeated itself: warmer by [`WARMER_BY`] and each
    /// penalty up by [`PENALTY_UP_BY`], never past what the flavor accepts.
    pub fn warmer(&self) -> Self {
        let penalty = |p: f32| (p + PENALTY_UP_BY).clamp(*PENALTIES.start(), *PENALTIES.end());
        Self {
            // Never cooler: a setting already above the highest step is kept as it is.
            temperature: (self.temperature + WARMER_BY)
                .min(self.bounds.highest())
                .max(self.temperature),
            frequency_penalty: penalty(self.frequency_penalty),
            presence_penalty: penalty(self.presence_penalty),
            bounds: self.bounds,
        }
    }
}

#[cfg(test)]
mod tests;
