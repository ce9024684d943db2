//! How a function of the bot lives: typed configuration and secrets, telemetry, the NATS
//! topology and job board, PostgreSQL and its migrations, the generic message envelope,
//! effects and their outbox, the Telegram Bot API and LLM clients, and the runners every stage is
//! driven by.
//!
//! The one rule of this crate: it knows no bot words. Nothing here names a persona, a
//! language, a button or a text the user reads; what a stage tells a user when it gives up
//! is the stage's own hook ([`runner::Stage::failure_notice`]). The bot's domain lives in
//! the `companion` crate, which depends on this one and never the other way round (Cargo
//! keeps that true: a dependency cycle does not build).

pub mod app;
pub mod audio;
pub mod config;
pub mod effects;
pub mod envelope;
pub mod error;
pub mod http;
pub mod llm;
pub mod nats;
pub mod ops;
pub mod pg;
pub mod runner;
pub mod secrets;
pub mod shutdown;
pub mod telegram;
pub mod telemetry;

pub use error::HandlerError;
