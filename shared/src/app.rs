//! Start-up shared by every queue-driven function: read and validate settings, connect to
//! NATS (declaring the topology) and PostgreSQL (refusing a schema that is behind), then
//! hand the stage to the configured runner. A function's `main.rs` is one call to [`launch`].

use std::future::Future;
use std::process::ExitCode;

use async_nats::jetstream;
use sqlx::PgPool;

use crate::config::{CommonSettings, ConfigError, Env, RunnerKind, TelegramSettings};
use crate::jobs::JobBoard;
use crate::runner::{Core, Stage, run_consumer, run_http};
use crate::telegram::Telegram;
use crate::{db, telemetry, topology};

/// A stage's own settings, read from the environment (problems go into `env`).
pub trait FromEnv: Sized {
    /// Reads the stage's own variables.
    fn read(env: &mut Env) -> Self;
}

/// Everything a queue-driven function is configured with: the shared part, Telegram access
/// and the stage's own settings.
#[derive(Debug, Clone)]
pub struct Settings<T> {
    /// Broker, database, runner.
    pub common: CommonSettings,
    /// Bot API access (every stage answers users, if only to say sorry).
    pub telegram: TelegramSettings,
    /// The stage's own part.
    pub stage: T,
}

impl<T: FromEnv> Settings<T> {
    /// Reads all three parts, listing every problem at once.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut env = Env::from_process();
        let settings = Self {
            common: CommonSettings::read(&mut env),
            telegram: TelegramSettings::read(&mut env),
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
    /// Telegram client.
    pub telegram: Telegram,
}

/// Connects everything a stage needs.
pub async fn connect(
    name: &'static str,
    common: &CommonSettings,
    tg: &TelegramSettings,
) -> Result<Deps, String> {
    let telegram = Telegram::new(tg)?;
    let pool = db::connect(
        common.database_url.expose(),
        common.concurrency.min(16) as u32 + 2,
    )
    .await
    .map_err(|e| e.to_string())?;
    db::check_schema(&pool).await.map_err(|e| e.to_string())?;
    let client = topology::connect(&common.nats_url, name)
        .await
        .map_err(|e| e.to_string())?;
    let js = jetstream::new(client);
    let buckets = topology::ensure_streams(&js, common.job_ttl)
        .await
        .map_err(|e| e.to_string())?;
    let jobs = JobBoard::new(buckets.jobs);
    Ok(Deps {
        js,
        pool,
        jobs,
        telegram,
    })
}

/// The whole life of a queue-driven function: returns the process exit code.
pub async fn launch<T, S, F, Fut>(name: &'static str, build: F) -> ExitCode
where
    T: FromEnv,
    S: Stage,
    F: FnOnce(T, Deps) -> Fut,
    Fut: Future<Output = Result<S, String>>,
{
    telemetry::init(name);
    let settings = match Settings::<T>::from_env() {
        Ok(s) => s,
        Err(e) => return fail(name, &e.to_string(), 2),
    };
    let common = settings.common;
    let deps = match connect(name, &common, &settings.telegram).await {
        Ok(d) => d,
        Err(e) => return fail(name, &e, 1),
    };
    let (pool, jobs, telegram, js) = (
        deps.pool.clone(),
        deps.jobs.clone(),
        deps.telegram.clone(),
        deps.js.clone(),
    );
    let stage = match build(settings.stage, deps).await {
        Ok(s) => s,
        Err(e) => return fail(name, &e, 1),
    };
    let core = Core::new(stage, pool, jobs, telegram);
    let result = match common.runner {
        RunnerKind::Consumer => run_consumer(core, js, &common)
            .await
            .map_err(|e| e.to_string()),
        RunnerKind::Http => run_http(core, &common.http_addr)
            .await
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(name, &e, 1),
    }
}

/// Logs a start-up failure (also to stderr, for people without a log viewer) and exits.
pub fn fail(name: &str, message: &str, code: u8) -> ExitCode {
    tracing::error!(service = name, "{message}");
    eprintln!("{name}: {message}");
    ExitCode::from(code)
}
