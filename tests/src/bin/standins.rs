//! `standins`: the Telegram, LLM, image and speech stand-ins as one local server process, for
//! `make run` without credentials. Simulated user updates (from `chat`) are delivered to
//! fn-ingress's webhook.

use std::path::PathBuf;
use std::sync::Arc;

use standins::script::Script;
use standins::telegram::{Telegram, Webhook};
use standins::{image_api, llm, serve};

fn var(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_target(false).init();
    let files = PathBuf::from(var("STANDIN_FILES_DIR", ".run/files"));
    let webhook = Webhook {
        url: var("STANDIN_WEBHOOK_URL", "http://127.0.0.1:8080/webhook"),
        secret: var("TELEGRAM_WEBHOOK_SECRET", ""),
    };
    let tg = Telegram::new(files, Some(webhook));
    tg.set_latency(var("STANDIN_TELEGRAM_LATENCY_MS", "0").parse().unwrap_or(0));
    if let Ok(token) = std::env::var("BOT_TOKEN") {
        tg.expect_token(&token);
    }
    let llm_script = Arc::new(Script::default());
    llm_script.set_default_delay(var("STANDIN_LLM_DELAY_MS", "400").parse().unwrap_or(0));
    let tg_addr = serve(tg.router(), &var("STANDIN_TELEGRAM_ADDR", "127.0.0.1:8081")).await?;
    let llm_addr = serve(
        llm::router(llm_script),
        &var("STANDIN_LLM_ADDR", "127.0.0.1:8082"),
    )
    .await?;
    let img_addr = serve(
        image_api::router(Arc::new(Script::default())),
        &var("STANDIN_IMAGE_ADDR", "127.0.0.1:8083"),
    )
    .await?;
    let audio_addr = serve(
        standins::audio::router(Arc::new(standins::audio::Audio::default())),
        &var("STANDIN_AUDIO_ADDR", "127.0.0.1:8084"),
    )
    .await?;
    tracing::info!(%tg_addr, %llm_addr, %img_addr, %audio_addr, "ready: stand-ins serving");
    tokio::signal::ctrl_c().await.ok();
    Ok(())
}
