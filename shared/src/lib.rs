//! Shared library of the companion bot's functions: typed configuration, telemetry, the NATS
//! topology, PostgreSQL and its migrations, message envelopes, job status, personas, the
//! Telegram client, user-facing texts, and the runners every stage is driven by.

pub mod admin;
pub mod app;
pub mod broker;
pub mod buttons;
pub mod config;
pub mod db;
pub mod deadletter;
pub mod effects;
pub mod envelope;
pub mod error;
pub mod http;
pub mod jobs;
pub mod keyboards;
pub mod locale;
pub mod nsfw;
pub mod nudity;
pub mod ops;
#[cfg(feature = "otel")]
pub mod otel;
pub mod outbox;
pub mod personas;
pub mod runner;
pub mod safety;
pub mod secrets;
#[cfg(feature = "aws")]
mod secrets_aws;
pub mod shutdown;
pub mod telegram;
pub mod telemetry;
pub mod texts;
pub mod topology;
pub mod trace;

pub use error::HandlerError;
