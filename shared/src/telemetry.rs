//! Tracing setup: JSON lines when `LOG_FORMAT=json`, readable text otherwise — coloured only
//! when writing to a terminal (and `NO_COLOR` is unset), so a container's log has no escape
//! codes; level from `RUST_LOG` (default `info`). Called once at the top of every `main`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether [`init`] installed the subscriber (then a fatal error is one log line, not two).
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Installs the global subscriber for the function named `service`.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn,hyper=warn"));
    let json = std::env::var("LOG_FORMAT")
        .map(|v| v == "json")
        .unwrap_or(false);
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    if result.is_ok() {
        INSTALLED.store(true, Ordering::Relaxed);
        tracing::info!(service, version = env!("CARGO_PKG_VERSION"), "starting");
    }
}
