//! `migrate`: applies the versioned migrations in `migrations/` to `DATABASE_URL`, and, when
//! `NATS_URL` is set, declares the NATS topology (both streams and both KV buckets, created or
//! brought to the settings of this build and `NATS_REPLICAS`) as `NATS_USER` — the `admin`
//! user where NATS has users: the functions' own users may only look the topology up. The one
//! explicit step ops run before starting (or upgrading) the functions.

use std::process::ExitCode;
use std::time::Duration;

use runtime::config::Env;
use runtime::nats::broker::NatsSettings;

/// Longest wait for NATS (connection and declaring) before migrate gives up.
const NATS_WAIT: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    runtime::telemetry::init("migrate");
    if let Err(e) = runtime::secrets::load().await {
        return runtime::app::fail("migrate", &e.to_string(), 2);
    }
    let mut env = Env::from_process();
    let url = env.secret("DATABASE_URL");
    let nats = std::env::var_os("NATS_URL")
        .is_some()
        .then(|| NatsSettings::read(&mut env));
    if let Err(e) = env.finish() {
        return runtime::app::fail("migrate", &e.to_string(), 2);
    }
    let pool = match runtime::pg::db::connect(url.expose(), (1, 1), &Default::default()).await {
        Ok(p) => p,
        Err(e) => return runtime::app::fail("migrate", &e.to_string(), 1),
    };
    if let Err(e) = runtime::pg::db::migrate(&pool).await {
        return runtime::app::fail("migrate", &e.to_string(), 1);
    }
    tracing::info!(
        migrations = runtime::pg::db::MIGRATOR.iter().count(),
        "schema is up to date"
    );
    let Some(nats) = nats else {
        tracing::info!("NATS_URL not set: the NATS topology is left as it is");
        return ExitCode::SUCCESS;
    };
    match tokio::time::timeout(NATS_WAIT, declare(&nats)).await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => runtime::app::fail("migrate", &e, 1),
        Err(_) => runtime::app::fail(
            "migrate",
            &format!(
                "NATS at {} did not answer within {NATS_WAIT:?}",
                nats.shown()
            ),
            1,
        ),
    }
}

async fn declare(nats: &NatsSettings) -> Result<(), String> {
    let client = nats.connect("migrate").await.map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client);
    runtime::nats::topology::ensure_streams(&js, nats.job_ttl, nats.replicas)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(replicas = nats.replicas, "NATS topology is declared");
    Ok(())
}
