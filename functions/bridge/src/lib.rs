//! fn-bridge: feeds stages that run behind HTTP (a Lambda function URL, Cloud Run, Knative,
//! OpenFaaS, or any copy with `RUNNER=http`) from their JetStream consumers. For each route it
//! pulls the stage's own durable consumer — the one a container copy would pull, so a stage
//! moves between containers and HTTP without losing its place — and POSTs every message,
//! signed, to the stage's `/invoke`; the answer decides ack, nak or term ([`forward`]). One
//! bridge serves several stages, each with its own bound on requests in flight.

pub mod forward;
mod pump;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use runtime::app::broker;
use runtime::config::{ConfigError, Env, Secret};
use runtime::nats::broker::NatsSettings;
use runtime::nats::topology;
use runtime::ops;
use runtime::shutdown;
use tokio::sync::watch;

pub use routes::Route;

/// What the bridge is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// NATS servers, user, replicas, job status lifetime.
    pub nats: NatsSettings,
    /// Stage → `/invoke` URL (`BRIDGE_ROUTES`).
    pub routes: Vec<Route>,
    /// Signs every body, as the functions' `/invoke` requires (`INVOKE_SECRET`).
    pub invoke_secret: Secret,
    /// Requests in flight per route (`BRIDGE_IN_FLIGHT`).
    pub in_flight: usize,
    /// How long one request may take (`BRIDGE_TIMEOUT_SECS`; Lambda's limit is 15 minutes).
    pub timeout: Duration,
    /// The consumers' ack wait; progress acks keep a slow request's message held.
    pub ack_wait: Duration,
    /// Ops port (`OPS_ADDR`; empty: none).
    pub ops_addr: String,
}

impl Settings {
    /// Reads and checks every variable, listing all problems at once.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(Env::from_process())
    }

    /// Reads from any environment.
    pub fn read(mut env: Env) -> Result<Self, ConfigError> {
        let routes = routes::parse(&env.required("BRIDGE_ROUTES"));
        let routes = routes.unwrap_or_else(|problems| {
            problems.into_iter().for_each(|p| env.problem(p));
            Vec::new()
        });
        let invoke_secret = env.secret("INVOKE_SECRET");
        if !invoke_secret.is_empty() && invoke_secret.expose().len() < 16 {
            env.problem("INVOKE_SECRET must be at least 16 characters");
        }
        let in_flight = env.parse("BRIDGE_IN_FLIGHT", 64usize);
        if in_flight == 0 {
            env.problem("BRIDGE_IN_FLIGHT must be at least 1");
        }
        let settings = Self {
            nats: NatsSettings::read(&mut env),
            routes,
            invoke_secret,
            in_flight: in_flight.max(1),
            timeout: env.seconds("BRIDGE_TIMEOUT_SECS", 900, 1),
            ack_wait: env.seconds("ACK_WAIT_SECS", 10, 1),
            ops_addr: env.string("OPS_ADDR", ""),
        };
        env.finish()?;
        Ok(settings)
    }
}

/// Binds every route's consumer, then bridges until SIGTERM/SIGINT; in-flight requests
/// finish (or are handed back) before it returns.
pub async fn run(s: Settings) -> Result<(), String> {
    let metrics = (!s.ops_addr.is_empty()).then(ops::recorder).flatten();
    let (js, _) = broker(topology::BRIDGE, &s.nats).await?;
    let stages = s.routes.iter().map(|r| r.stage).collect();
    ops::start(&s.ops_addr, metrics, None, &js, stages);
    let mut consumers = Vec::new();
    for route in &s.routes {
        let consumer = topology::ensure_consumer(&js, &route.stage, s.ack_wait)
            .await
            .map_err(|e| e.to_string())?;
        consumers.push((route.clone(), consumer));
    }
    ops::set_bound();
    let forwarder = Arc::new(forward::Forwarder::new(s.invoke_secret.clone(), s.timeout)?);
    let (stop_tx, stopping) = watch::channel(false);
    tokio::spawn(async move {
        shutdown::signal().await;
        let _ = stop_tx.send(true);
    });
    for (route, _) in &consumers {
        tracing::info!(stage = route.stage.name, url = %route.url, in_flight = s.in_flight, "bridging");
    }
    tracing::info!(routes = consumers.len(), "ready: bridging");
    let pumps = consumers.into_iter().map(|(route, consumer)| {
        let pump = pump::Pump {
            route,
            forwarder: forwarder.clone(),
            ack_wait: s.ack_wait,
            stopping: stopping.clone(),
        };
        async move { pump.run(consumer, s.in_flight).await }
    });
    for tasks in futures::future::join_all(pumps).await {
        runtime::runner::drain(tasks, &js).await;
    }
    Ok(())
}
