//! fn-ingress binary: settings, telemetry, NATS, then the webhook server or the poller.

use std::process::ExitCode;

use async_nats::jetstream;
use fn_ingress::{Mode, Settings, polling::Poller, publish::Publisher, webhook};
use shared::app::fail;
use shared::{shutdown, telemetry, topology};

const NAME: &str = "fn-ingress";

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init(NAME);
    let s = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(NAME, &e.to_string(), 2),
    };
    match run(s).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(NAME, &e, 1),
    }
}

async fn run(s: Settings) -> Result<(), String> {
    let client = topology::connect(&s.nats_url, NAME)
        .await
        .map_err(|e| e.to_string())?;
    let js = jetstream::new(client);
    let buckets = topology::ensure_streams(&js, s.job_ttl)
        .await
        .map_err(|e| e.to_string())?;
    let publisher = Publisher::new(js.clone());
    let app = webhook::router(
        s.webhook_secret.clone(),
        publisher.clone(),
        s.max_body_bytes,
    );
    if s.mode == Mode::Polling {
        let tg = s.telegram.as_ref().ok_or("polling needs BOT_TOKEN")?;
        let state = buckets.ingress;
        let poller = Poller::new(tg, state, publisher)?;
        tokio::spawn(async move {
            poller.clear_webhook().await;
            loop {
                let wait = poller.poll_once().await;
                tokio::time::sleep(wait).await;
            }
        });
    }
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        tracing::info!("ready: serving through lambda_http");
        return lambda_http_run(app).await;
    }
    let listener = tokio::net::TcpListener::bind(&s.addr)
        .await
        .map_err(|e| format!("bind {}: {e}", s.addr))?;
    tracing::info!(addr = %s.addr, mode = ?s.mode, "ready: accepting updates");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown::signal())
        .await
        .map_err(|e| e.to_string())
}

async fn lambda_http_run(app: axum::Router) -> Result<(), String> {
    shared::runner::serve_lambda(app)
        .await
        .map_err(|e| e.to_string())
}
