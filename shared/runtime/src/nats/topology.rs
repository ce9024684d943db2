//! The one place that names streams, subjects, durable consumers and KV buckets, and creates
//! them idempotently (streams and buckets: `migrate`, as the NATS admin user, see
//! [`ensure_streams`]; each function checks them with [`await_streams`] and creates only its
//! own durable consumer). Functions never spell a subject as a string literal.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};

mod declare;
pub use declare::{Buckets, await_streams, ensure_streams};

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
/// Message schedules (`Nats-Schedule`) in the jobs stream, one subject per schedule: a
/// schedule's subject is its identity, so publishing on it again replaces it. No consumer
/// takes these subjects; the server publishes each schedule's payload to its target (a stage's
/// subject) when it is due.
pub const SCHEDULE_SUBJECTS: &str = "jobs.schedule.>";

/// The subject of schedule `key` (e.g. `nudge.<user>`).
pub fn schedule_subject(key: &str) -> String {
    format!("jobs.schedule.{key}")
}

/// Whether `subject` is a schedule's (see [`SCHEDULE_SUBJECTS`]).
pub fn is_schedule(subject: &str) -> bool {
    subject.starts_with("jobs.schedule.")
}
/// KV bucket of job status, entries expire after `JOB_TTL_SECS`.
pub const JOBS_BUCKET: &str = "job_status";
/// KV bucket of ingress state (the polling offset); entries never expire.
pub const INGRESS_BUCKET: &str = "ingress_state";
/// KV bucket of the `/invoke` request ids HTTP-runner copies have accepted (a few minutes).
pub const INVOKE_BUCKET: &str = "invoke_ids";
/// How long an `/invoke` request id is kept in [`INVOKE_BUCKET`]: longer than a signature
/// stays fresh (five minutes either side of the receiver's clock) plus a minute of slack.
pub const INVOKE_KEEP: Duration = Duration::from_secs(2 * 300 + 60);

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
/// fn-ingress: the front door, publishing Telegram's updates to [`UPDATES_STREAM`].
pub const INGRESS: &str = "fn-ingress";
/// fn-bridge: pulls the consumers of stages that run behind HTTP and posts to their `/invoke`.
pub const BRIDGE: &str = "fn-bridge";
/// Every function the bot runs on, in start order (the stages, then the front door): what
/// `make run`, compose and the Kubernetes manifests start.
pub const FUNCTIONS: [&str; 7] = [
    UPDATES_STAGE.name,
    REPLY_STAGE.name,
    PROMPT_STAGE.name,
    IMAGE_STAGE.name,
    SEND_STAGE.name,
    ADMIN_STAGE.name,
    INGRESS,
];
/// Every function binary: [`FUNCTIONS`] and [`BRIDGE`], which runs only where a stage runs
/// behind HTTP. Each has its image and its NATS user.
pub const ALL_FUNCTIONS: [&str; 8] = [
    UPDATES_STAGE.name,
    REPLY_STAGE.name,
    PROMPT_STAGE.name,
    IMAGE_STAGE.name,
    SEND_STAGE.name,
    ADMIN_STAGE.name,
    INGRESS,
    BRIDGE,
];

/// Failure to declare (or find) the topology.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// A request to the server failed (connecting, creating, looking up).
    #[error("declaring NATS topology ({what}): {source}")]
    Request {
        /// What was being done.
        what: String,
        /// The client's error.
        #[source]
        source: async_nats::Error,
    },
    /// A function that may not declare the topology did not find it in time.
    #[error(
        "NATS topology missing after {waited:?} ({what}: {last}): run `migrate` with NATS_URL \
         and the NATS admin user first (it declares the streams and buckets), or set \
         NATS_DECLARE_TOPOLOGY=1 where this function's user may create them"
    )]
    Missing {
        /// The stream or bucket not found.
        what: String,
        /// How long the function waited for it.
        waited: Duration,
        /// The last lookup's error.
        last: String,
    },
}

/// A failed connection to `servers` (shown without credentials).
pub fn connect_error(servers: &str, source: async_nats::Error) -> TopologyError {
    err(format!("connect {servers}"))(source)
}

/// A failed lookup of stream or bucket `what`.
pub fn lookup_error(what: &str, source: async_nats::Error) -> TopologyError {
    err(what)(source)
}

fn err(what: impl Into<String>) -> impl FnOnce(async_nats::Error) -> TopologyError {
    let what = what.into();
    move |source| TopologyError::Request { what, source }
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
