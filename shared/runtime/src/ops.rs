//! The ops port (`OPS_ADDR`, off when empty: copies on one host would fight over a port):
//! `/healthz` (the process answers), `/readyz` (PostgreSQL and NATS reachable and the stage's
//! consumer bound: 200, else 503 saying what is missing) and `/metrics` (Prometheus text: what
//! the code records through the `metrics` macros, plus the stage's consumer figures read from
//! JetStream at scrape time). The metric names are listed in [`NAMES`], which the README, the
//! dashboards and the alert rules use.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

use crate::nats::topology::StageSpec;

/// Every metric the functions export.
pub const NAMES: &[&str] = &[
    "companion_messages_total",
    "companion_handle_seconds",
    "companion_hop_seconds",
    "companion_sql_statements_total",
    "companion_in_flight",
    "companion_parked",
    "companion_consumer_pending",
    "companion_consumer_ack_pending",
    "companion_consumer_redelivered",
    "companion_telegram_seconds",
    "companion_telegram_errors_total",
    "companion_api_seconds",
    "companion_api_errors_total",
];

/// Histogram buckets, seconds: from a quick SQL statement to a slow image.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static BOUND: AtomicBool = AtomicBool::new(false);

/// Installs the process's metrics recorder (once); `None` if another one was installed.
pub fn recorder() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(crate::telemetry::hops::METRIC.to_owned()),
                        crate::telemetry::hops::BUCKETS,
                    )
                })
                .expect("fixed buckets are valid");
            builder.install_recorder().ok()
        })
        .clone()
}

/// Marks the stage's consumer bound (or, for the HTTP runner, the server listening).
pub fn set_bound() {
    BOUND.store(true, Ordering::Relaxed);
}

/// What the ops routes read.
#[derive(Clone)]
pub struct Ops {
    /// The recorder's handle.
    pub metrics: PrometheusHandle,
    /// The database, when the function has one.
    pub pool: Option<PgPool>,
    /// The broker.
    pub js: async_nats::jetstream::Context,
    /// The stages whose consumers are reported (none for fn-ingress; several for a bridge).
    pub stages: Vec<StageSpec>,
}

/// Serves the ops routes on `addr` in the background, when [`recorder`] gave a handle (it is
/// installed first, before anything is recorded).
pub fn start(
    addr: &str,
    metrics: Option<PrometheusHandle>,
    pool: Option<PgPool>,
    js: &async_nats::jetstream::Context,
    stages: Vec<StageSpec>,
) {
    if let Some(metrics) = metrics {
        // Histogram samples wait in the recorder until upkeep folds them into their buckets:
        // without it they pile up between scrapes (or for ever, with no Prometheus).
        let upkeep = metrics.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP);
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        let ops = Ops {
            metrics,
            pool,
            js: js.clone(),
            stages,
        };
        tokio::spawn(serve(addr.to_owned(), ops));
    }
}

/// Serves the ops routes on `addr` until the process ends (errors are logged: ops must never
/// take the function down).
pub async fn serve(addr: String, ops: Ops) {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops);
    match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => {
            tracing::info!(%addr, "ops port: /healthz /readyz /metrics");
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "ops port stopped");
            }
        }
        Err(e) => tracing::error!(%addr, error = %e, "ops port not opened"),
    }
}

async fn readyz(State(ops): State<Ops>) -> (StatusCode, String) {
    let mut missing = Vec::new();
    if let Some(pool) = &ops.pool {
        let ping = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query("SELECT 1").execute(pool),
        );
        if !matches!(ping.await, Ok(Ok(_))) {
            missing.push("postgres");
        }
    }
    if ops.js.client().connection_state() != async_nats::connection::State::Connected {
        missing.push("nats");
    }
    if !ops.stages.is_empty() && !BOUND.load(Ordering::Relaxed) {
        missing.push("consumer");
    }
    match missing.is_empty() {
        true => (StatusCode::OK, "ready\n".into()),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", missing.join(", ")),
        ),
    }
}

async fn metrics(State(ops): State<Ops>) -> String {
    for stage in &ops.stages {
        let info = tokio::time::timeout(
            Duration::from_secs(2),
            crate::nats::topology::consumer_info(&ops.js, stage),
        );
        if let Ok(Some(i)) = info.await {
            let stage = stage.name;
            metrics::gauge!("companion_consumer_pending", "stage" => stage)
                .set(i.num_pending as f64);
            metrics::gauge!("companion_consumer_ack_pending", "stage" => stage)
                .set(i.num_ack_pending as f64);
            metrics::gauge!("companion_consumer_redelivered", "stage" => stage)
                .set(i.num_redelivered as f64);
        }
    }
    ops.metrics.render()
}

/// `<function> healthcheck` (a container's health check, where there is no shell or curl):
/// asks this host's ops port (`OPS_ADDR`, default port 9100) for `/healthz`; success when it
/// answers 200 within two seconds.
pub fn healthcheck() -> std::process::ExitCode {
    use std::io::{Read, Write};
    let addr = std::env::var("OPS_ADDR").unwrap_or_default();
    let port = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(9100);
    let asked = (|| -> std::io::Result<String> {
        let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = std::net::TcpStream::connect_timeout(&target, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    })();
    match asked {
        Ok(a) if a.starts_with("HTTP/1.1 200") || a.starts_with("HTTP/1.0 200") => {
            std::process::ExitCode::SUCCESS
        }
        _ => std::process::ExitCode::FAILURE,
    }
}
