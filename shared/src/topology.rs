//! The one place that names streams, subjects, durable consumers and KV buckets, and creates
//! them idempotently. Functions never spell a subject as a string literal.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};

/// Stream of raw Telegram updates, published by fn-ingress.
pub const UPDATES_STREAM: &str = "UPDATES";
/// Subjects of raw Telegram updates, one per chat (`updates.telegram.<chat id>`, 0 when the
/// update has no chat): fn-updates can ask the stream for a chat's oldest unhandled update.
pub const UPDATES_SUBJECT: &str = "updates.telegram.>";

/// The subject of chat `chat`'s updates.
pub fn update_subject(chat: i64) -> String {
    format!("updates.telegram.{chat}")
}
/// Stream of stage jobs.
pub const JOBS_STREAM: &str = "JOBS";
/// Reply jobs (GENERATE_REPLY in the seed).
pub const REPLY_SUBJECT: &str = "jobs.reply";
/// Image-prompt jobs (GENERATE_IMAGE_PROMPT).
pub const PROMPT_SUBJECT: &str = "jobs.prompt";
/// Image jobs (GENERATE_IMAGE).
pub const IMAGE_SUBJECT: &str = "jobs.image";
/// Bot API calls (GENERATE_* stages decide them, fn-send makes them).
pub const SEND_SUBJECT: &str = "jobs.send";
/// Subject of admin panel requests (fn-admin).
pub const ADMIN_SUBJECT: &str = "jobs.admin";
/// KV bucket of job status, entries expire after `JOB_TTL_SECS`.
pub const JOBS_BUCKET: &str = "job_status";
/// KV bucket of ingress state (the polling offset); entries never expire.
pub const INGRESS_BUCKET: &str = "ingress_state";

/// How long a stream remembers `Nats-Msg-Id`s to drop duplicates. Longer-lived duplicates
/// (Telegram retrying a day later) are caught by `processed_updates` in Postgres.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Deliveries before the runner gives up on a message that keeps failing transiently.
pub const MAX_DELIVER: i64 = 6;

/// A queue-driven stage: its durable consumer and the subject it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSpec {
    /// Function name, also the durable consumer name and metrics label.
    pub name: &'static str,
    /// Stream the consumer reads.
    pub stream: &'static str,
    /// Subject filter.
    pub subject: &'static str,
}

/// fn-updates: commands, callbacks and texts.
pub const UPDATES_STAGE: StageSpec = StageSpec {
    name: "fn-updates",
    stream: UPDATES_STREAM,
    subject: UPDATES_SUBJECT,
};
/// fn-reply: LLM answers.
pub const REPLY_STAGE: StageSpec = StageSpec {
    name: "fn-reply",
    stream: JOBS_STREAM,
    subject: REPLY_SUBJECT,
};
/// fn-prompt: image prompts.
pub const PROMPT_STAGE: StageSpec = StageSpec {
    name: "fn-prompt",
    stream: JOBS_STREAM,
    subject: PROMPT_SUBJECT,
};
/// fn-image: pictures.
pub const IMAGE_STAGE: StageSpec = StageSpec {
    name: "fn-image",
    stream: JOBS_STREAM,
    subject: IMAGE_SUBJECT,
};
/// fn-send: every Bot API call, paced.
pub const SEND_STAGE: StageSpec = StageSpec {
    name: "fn-send",
    stream: JOBS_STREAM,
    subject: SEND_SUBJECT,
};
/// The admin panel: off the chat path, stoppable without affecting chat.
pub const ADMIN_STAGE: StageSpec = StageSpec {
    name: "fn-admin",
    stream: JOBS_STREAM,
    subject: ADMIN_SUBJECT,
};
/// Every stage, for tools that watch them all.
pub const STAGES: [StageSpec; 6] = [
    UPDATES_STAGE,
    REPLY_STAGE,
    PROMPT_STAGE,
    IMAGE_STAGE,
    SEND_STAGE,
    ADMIN_STAGE,
];
/// Every function binary, in start order (the stages, then the front door).
pub const FUNCTIONS: [&str; 7] = [
    UPDATES_STAGE.name,
    REPLY_STAGE.name,
    PROMPT_STAGE.name,
    IMAGE_STAGE.name,
    SEND_STAGE.name,
    ADMIN_STAGE.name,
    "fn-ingress",
];

/// Failure to declare the topology.
#[derive(Debug, thiserror::Error)]
#[error("declaring NATS topology ({what}): {source}")]
pub struct TopologyError {
    what: String,
    #[source]
    source: async_nats::Error,
}

/// A failed connection to `servers` (shown without credentials).
pub fn connect_error(servers: &str, source: async_nats::Error) -> TopologyError {
    err(format!("connect {servers}"))(source)
}

fn err(what: impl Into<String>) -> impl FnOnce(async_nats::Error) -> TopologyError {
    let what = what.into();
    move |source| TopologyError { what, source }
}

fn stream_config(name: &str, subjects: &str, replicas: usize) -> stream::Config {
    stream::Config {
        name: name.to_owned(),
        num_replicas: replicas,
        subjects: vec![subjects.to_owned()],
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        max_age: Duration::from_secs(7 * 24 * 3600),
        // Direct gets: fn-updates reads a chat's oldest unhandled update.
        allow_direct: true,
        ..Default::default()
    }
}

/// The KV buckets opened by [`ensure_streams`] that a function reads back (job status is
/// only written, by plain publishes to its subject).
#[derive(Clone)]
pub struct Buckets {
    /// Ingress state (the polling offset).
    pub ingress: kv::Store,
}

/// Creates both streams and both KV buckets when missing, and updates a stream whose settings
/// differ (so a function's user needs only `STREAM.INFO` once the topology is in place).
/// Safe to call from every copy of every function at every start.
pub async fn ensure_streams(
    js: &jetstream::Context,
    job_ttl: Duration,
    replicas: usize,
) -> Result<Buckets, TopologyError> {
    declare(js, stream_config(UPDATES_STREAM, "updates.>", replicas)).await?;
    declare(js, stream_config(JOBS_STREAM, "jobs.>", replicas)).await?;
    bucket(js, JOBS_BUCKET, job_ttl, replicas).await?;
    Ok(Buckets {
        ingress: bucket(js, INGRESS_BUCKET, Duration::ZERO, replicas).await?,
    })
}

async fn declare(js: &jetstream::Context, want: stream::Config) -> Result<(), TopologyError> {
    // The lookup already carries the stream's settings: no second request.
    if let Ok(existing) = js.get_stream(&want.name).await {
        let have = &existing.cached_info().config;
        let same = have.subjects == want.subjects
            && have.num_replicas == want.num_replicas
            && have.retention == want.retention
            && have.duplicate_window == want.duplicate_window
            && have.max_age == want.max_age
            && have.allow_direct == want.allow_direct;
        if same {
            return Ok(());
        }
    }
    let name = want.name.clone();
    js.create_or_update_stream(want)
        .await
        .map(|_| ())
        .map_err(|e| err(name)(e.into()))
}

async fn bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<kv::Store, TopologyError> {
    if let Ok(store) = js.get_key_value(name).await {
        return Ok(store);
    }
    js.create_key_value(kv::Config {
        bucket: name.to_owned(),
        history: 1,
        max_age,
        num_replicas: replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| err(name)(e.into()))
}

/// Creates or updates the durable pull consumer of `stage`; all copies of a function share it.
pub async fn ensure_consumer(
    js: &jetstream::Context,
    stage: &StageSpec,
    ack_wait: Duration,
) -> Result<consumer::PullConsumer, TopologyError> {
    let stream = js
        .get_stream(stage.stream)
        .await
        .map_err(|e| err(stage.stream)(e.into()))?;
    stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(stage.name.to_owned()),
            filter_subject: stage.subject.to_owned(),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait,
            // Unlimited here: the runner itself gives up after MAX_DELIVER deliveries, once the
            // dead letter is stored. A server-side cap would strand a message whose dead letter
            // could not be written (database down) in the stream, never delivered again.
            max_deliver: -1,
            // Held messages are bounded by each copy's CONCURRENCY (it pulls only free slots)
            // plus the jobs it parks while they wait their turn; this caps all copies together.
            max_ack_pending: 20_000,
            ..Default::default()
        })
        .await
        .map_err(|e| err(stage.name)(e.into()))
}

/// The durable consumer of `stage` as the server sees it (pending, in flight, redelivered), or
/// `None` when it does not exist (yet) or the server cannot be asked.
pub async fn consumer_info(js: &jetstream::Context, stage: &StageSpec) -> Option<consumer::Info> {
    let stream = js.get_stream(stage.stream).await.ok()?;
    let mut c: consumer::PullConsumer = stream.get_consumer(stage.name).await.ok()?;
    c.info().await.ok().cloned()
}
