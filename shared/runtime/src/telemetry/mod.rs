//! Tracing setup: JSON lines when `LOG_FORMAT=json`, readable text otherwise — coloured only
//! when writing to a terminal (and `NO_COLOR` is unset), so a container's log has no escape
//! codes; level from `RUST_LOG` (default `info`). Called once at the top of every `main`.
//! Built with the cargo feature `otel`, spans are also exported to an OpenTelemetry collector
//! when one is configured ([`crate::telemetry::otel`]).

pub mod hops;
#[cfg(feature = "otel")]
pub mod otel;
pub mod trace;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether [`init`] installed the subscriber (then a fatal error is one log line, not two).
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Installs the global subscriber for the function named `service`.
pub fn init(service: &'static str) {
    let json = std::env::var("LOG_FORMAT")
        .map(|v| v == "json")
        .unwrap_or(false);
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(colour);
    let fmt = match json {
        true => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
        false => fmt.boxed(),
    };
    // Each layer filters for itself: the log's level does not decide which SQL statements
    // the per-hop clock sees (sqlx reports every statement's time at debug).
    let sql = tracing_subscriber::filter::Targets::new()
        .with_target("sqlx::query", tracing::Level::TRACE);
    let base = tracing_subscriber::registry()
        .with(fmt.with_filter(log_filter()))
        .with(hops::SqlLayer.with_filter(sql));
    #[cfg(feature = "otel")]
    let result = base
        .with(crate::telemetry::otel::layer(service).with_filter(log_filter()))
        .try_init();
    #[cfg(not(feature = "otel"))]
    let result = base.try_init();
    if result.is_ok() {
        INSTALLED.store(true, Ordering::Relaxed);
        tracing::info!(service, version = env!("CARGO_PKG_VERSION"), "starting");
    }
}

/// The log's level: `RUST_LOG`, else info with the chatty libraries at warn.
fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn,hyper=warn"))
}

/// Puts `span` (a message's handling) in W3C trace `trace_id` for OpenTelemetry export; a
/// no-op without the `otel` feature or a collector.
pub fn link(span: &tracing::Span, trace_id: &str) {
    #[cfg(feature = "otel")]
    crate::telemetry::otel::link(span, trace_id);
    #[cfg(not(feature = "otel"))]
    let _ = (span, trace_id);
}

/// Flushes what telemetry still holds (batched spans) before the process ends.
pub fn shutdown() {
    #[cfg(feature = "otel")]
    crate::telemetry::otel::shutdown();
}
