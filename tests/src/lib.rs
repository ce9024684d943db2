//! Stand-ins for the paid outside services — the Telegram Bot API, an OpenAI-compatible LLM
//! and an Automatic1111 image server — as real HTTP servers speaking the real wire formats,
//! plus the harness the end-to-end tests use to start a modern nats-server, a fresh
//! PostgreSQL database and every function as separate processes.

pub mod audio;
pub mod bench;
pub mod chaos;
pub mod comfy;
pub mod containers;
pub mod harness;
pub mod host;
pub mod image_api;
pub mod lambda;
pub mod llm;
pub mod nats;
pub mod picture;
pub mod script;
mod settle;
pub mod system;
pub mod telegram;
pub mod updates;

use std::net::SocketAddr;

/// Serves `app` on `addr` (port 0 picks a free one) in the background; returns the address.
pub async fn serve(app: axum::Router, addr: &str) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        let listener = axum::serve::ListenerExt::tap_io(listener, runtime::runner::no_delay);
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "stand-in server stopped");
        }
    });
    Ok(local)
}
