//! Start-up shared by every queue-driven function: read and validate settings, connect to
//! NATS (finding the topology `migrate` declared, or declaring it in development) and PostgreSQL (refusing a schema that is behind), then
//! hand the stage to the configured runner. A function's `main.rs` is one call to [`launch`].

mod settings;

pub use settings::{CommonSettings, RunnerKind};

use std::future::Future;
use std::process::ExitCode;

use async_nats::jetstream;
use sqlx::PgPool;

use crate::config::{ConfigError, Env};
use crate::effects::Outbox;
use crate::nats::broker::NatsSettings;
use crate::nats::jobs::JobBoard;
use crate::nats::topology;
use crate::pg::db;
use crate::runner::{Core, Stage, run_consumer, run_http};
use crate::{ops, telemetry};

/// A stage's own settings, read from the environment (problems go into `env`).
pub trait FromEnv: Sized {
    /// Reads the stage's own variables.
    fn read(env: &mut Env) -> Self;
}

/// Everything a queue-driven function is configured with: the shared part and the stage's
/// own settings (only fn-send holds Bot API access).
#[derive(Debug, Clone)]
pub struct Settings<T> {
    /// Broker, database, runner.
    pub common: CommonSettings,
    /// The stage's own part.
    pub stage: T,
}

impl<T: FromEnv> Settings<T> {
    /// Reads both parts, listing every problem at once.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = Env::from_process();
        let settings = Self {
            common: CommonSettings::read(&mut env),
            stage: T::read(&mut env),
        };
        env.finish()?;
        Ok(settings)
    }
}

/// Connections handed to a stage's constructor.
#[derive(Clone)]
pub struct Deps {
    /// JetStream context (publishing jobs).
    pub js: jetstream::Context,
    /// PostgreSQL pool.
    pub pool: PgPool,
    /// Job status board.
    pub jobs: JobBoard,
    /// Publishes what a committed decision implies.
    pub outbox: Outbox,
    /// How days and sessions are counted (for a second pool, such as a read replica).
    pub calendar: db::Calendar,
}

/// Connects everything a stage needs.
pub async fn connect(
    name: &'static str,
    common: &CommonSettings,
    concurrency: usize,
) -> Result<Deps, String> {
    let max = concurrency.min(16) as u32 + 2;
    let sizes = (max, common.warm_connections);
    let pool = db::connect(common.database_url.expose(), sizes, &common.calendar)
        .await
        .map_err(|e| e.to_string())?;
    db::check_schema(&pool).await.map_err(|e| e.to_string())?;
    let (js, _) = broker(name, &common.nats).await?;
    let jobs = JobBoard::new(js.client(), topology::JOBS_BUCKET);
    let outbox = Outbox::new(js.clone(), pool.clone(), jobs.clone());
    Ok(Deps {
        js,
        pool,
        jobs,
        outbox,
        calendar: common.calendar.clone(),
    })
}

/// Connects to NATS as `name` and finds the topology (streams, buckets) — declaring it when
/// `NATS_DECLARE_TOPOLOGY` says so, else waiting up to `NATS_TOPOLOGY_WAIT_SECS` for
/// `migrate` to have declared it: what every function, the front door included, does first.
pub async fn broker(
    name: &'static str,
    nats: &NatsSettings,
) -> Result<(jetstream::Context, topology::Buckets), String> {
    let client = nats.connect(name).await.map_err(|e| e.to_string())?;
    let js = jetstream::new(client);
    let buckets = if nats.declare {
        topology::ensure_streams(&js, nats.job_ttl, nats.replicas).await
    } else {
        topology::await_streams(&js, nats.topology_wait).await
    };
    Ok((js, buckets.map_err(|e| e.to_string())?))
}

/// The whole life of a queue-driven function (named by its stage): returns the exit code.
pub async fn launch<T, S, F, Fut>(build: F) -> ExitCode
where
    T: FromEnv,
    S: Stage,
    F: FnOnce(T, Deps) -> Fut,
    Fut: Future<Output = Result<S, String>>,
{
    launch_with(S::SPEC.name, Settings::<T>::from_env, |s| {
        run_stage(s, build)
    })
    .await
}

/// Connects, builds the stage and runs it with the configured runner until SIGTERM.
async fn run_stage<T, S, F, Fut>(settings: Settings<T>, build: F) -> Result<(), String>
where
    S: Stage,
    F: FnOnce(T, Deps) -> Fut,
    Fut: Future<Output = Result<S, String>>,
{
    let common = settings.common;
    let concurrency = common.concurrency.unwrap_or(S::CONCURRENCY);
    // Installed before anything is recorded.
    let metrics = (!common.ops_addr.is_empty()).then(ops::recorder).flatten();
    let deps = connect(S::SPEC.name, &common, concurrency).await?;
    let pool = Some(deps.pool.clone());
    ops::start(&common.ops_addr, metrics, pool, &deps.js, vec![S::SPEC]);
    let (pool, jobs, outbox, js) = (
        deps.pool.clone(),
        deps.jobs.clone(),
        deps.outbox.clone(),
        deps.js.clone(),
    );
    let stage = build(settings.stage, deps).await?;
    let core = Core::new(stage, pool, jobs, outbox);
    match common.runner {
        RunnerKind::Consumer => run_consumer(core, js, common.ack_wait, concurrency)
            .await
            .map_err(|e| e.to_string()),
        RunnerKind::Http => run_http(core, common.invoke_auth.clone(), &js, &common.http_addr)
            .await
            .map_err(|e| e.to_string()),
    }
}

/// The whole life of a function that is not a stage (fn-ingress, fn-bridge): the health
/// check subcommand, telemetry, secrets, settings read by `read`, then `run` until it returns.
pub async fn launch_with<S, F, Fut>(
    name: &'static str,
    read: impl FnOnce() -> Result<S, ConfigError>,
    run: F,
) -> ExitCode
where
    F: FnOnce(S) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return ops::healthcheck();
    }
    telemetry::init(name);
    if let Err(e) = crate::secrets::load().await {
        return fail(name, &e.to_string(), 2);
    }
    let settings = match read() {
        Ok(s) => s,
        Err(e) => return fail(name, &e.to_string(), 2),
    };
    let result = run(settings).await;
    telemetry::shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(name, &e, 1),
    }
}

/// Reports a start-up failure once — one error log line (on stderr when logging is not set
/// up yet) — and exits with `code`.
pub fn fail(name: &str, message: &str, code: u8) -> ExitCode {
    if telemetry::installed() {
        tracing::error!(service = name, "{name}: {message}");
    } else {
        eprintln!("{name}: {message}");
    }
    ExitCode::from(code)
}
