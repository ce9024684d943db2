//! The settings every queue-driven function shares (NATS, PostgreSQL, which runner, ops
//! address), read with the caller's own settings so one start-up error lists every problem.

use std::time::Duration;

use crate::config::{Env, Secret};
use crate::nats::broker::NatsSettings;
use crate::pg::db::Calendar;
use crate::runner::InvokeAuth;

/// Settings every queue-driven function shares.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    /// NATS servers, user, replicas, job status lifetime.
    pub nats: NatsSettings,
    /// PostgreSQL URL (may hold a password: never logged).
    pub database_url: Secret,
    /// How long a handler may hold a message before JetStream redelivers it.
    pub ack_wait: Duration,
    /// How many messages one copy handles at once (`None`: the stage's own default).
    pub concurrency: Option<usize>,
    /// `consumer` (JetStream pull loop) or `http` (POST /invoke).
    pub runner: RunnerKind,
    /// Address of the HTTP runner when it is not under Lambda.
    pub http_addr: String,
    /// How `/invoke` callers are authenticated (HTTP runner).
    pub invoke_auth: InvokeAuth,
    /// How days and sessions are counted (`ADMIN_TZ`, `SESSION_GAP_MINUTES`).
    pub calendar: Calendar,
    /// Where `/healthz`, `/readyz` and `/metrics` are served (`OPS_ADDR`; empty: nowhere).
    pub ops_addr: String,
    /// Database connections opened and warmed at start and kept open
    /// (`DATABASE_WARM_CONNECTIONS`, default 2).
    pub warm_connections: u32,
}

/// Which runner drives a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerKind {
    /// Durable pull consumer loop.
    Consumer,
    /// HTTP `POST /invoke` (plain server or AWS Lambda).
    Http,
}

impl CommonSettings {
    /// Reads the shared part; `Env::finish` reports its problems with the caller's.
    pub fn read(env: &mut Env) -> Self {
        let runner = match env.string("RUNNER", "consumer").as_str() {
            "consumer" => RunnerKind::Consumer,
            "http" => RunnerKind::Http,
            other => {
                env.problem(format!("RUNNER={other:?} must be `consumer` or `http`"));
                RunnerKind::Consumer
            }
        };
        let concurrency = env.parse("CONCURRENCY", 0usize);
        if env.string("CONCURRENCY", "").trim() == "0" {
            env.problem("CONCURRENCY must be at least 1");
        }
        let invoke_auth = match env.string("INVOKE_AUTH", "hmac").as_str() {
            "iam" => InvokeAuth::Iam,
            other => {
                if other != "hmac" {
                    env.problem(format!("INVOKE_AUTH={other:?} must be `hmac` or `iam`"));
                }
                let secret = env.optional_secret("INVOKE_SECRET");
                if runner == RunnerKind::Http && secret.expose().len() < 16 {
                    env.problem(
                        "INVOKE_SECRET (at least 16 characters) is required with RUNNER=http, \
                         unless INVOKE_AUTH=iam (an IAM-authorised Lambda function URL)",
                    );
                }
                InvokeAuth::Hmac(secret)
            }
        };
        Self {
            nats: NatsSettings::read(env),
            database_url: env.secret("DATABASE_URL"),
            ack_wait: env.seconds("ACK_WAIT_SECS", 10, 1),
            concurrency: (concurrency > 0).then_some(concurrency),
            runner,
            http_addr: env.string("HTTP_ADDR", "127.0.0.1:9000"),
            invoke_auth,
            calendar: Calendar::read(env),
            ops_addr: env.string("OPS_ADDR", ""),
            warm_connections: env.parse("DATABASE_WARM_CONNECTIONS", 2u32),
        }
    }
}
