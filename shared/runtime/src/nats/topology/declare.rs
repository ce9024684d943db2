//! Streams and KV buckets: declared (created when missing, updated when their settings
//! differ) by `migrate` as the NATS admin user — or by a function itself in development, where
//! NATS runs without users — and otherwise only looked up by each function at start, which
//! waits a while for `migrate` to have run. A function's user may read stream information but
//! neither create nor update a stream, so a compromised function cannot change the limits of
//! (and so purge) the streams.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv, stream};

use super::{
    DUPLICATE_WINDOW, INGRESS_BUCKET, INVOKE_BUCKET, INVOKE_KEEP, JOBS_BUCKET, JOBS_STREAM,
    TopologyError, UPDATES_STREAM, err,
};

/// How often a function looks again for a topology that is not there yet.
const LOOK_EVERY: Duration = Duration::from_secs(1);

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
        // Message schedules (`jobs.schedule.*`): delayed jobs fired by the server itself.
        allow_message_schedules: name == JOBS_STREAM,
        ..Default::default()
    }
}

/// The KV buckets opened by [`ensure_streams`] or [`await_streams`] that a function reads
/// back (job status is only written, by plain publishes to its subject).
#[derive(Clone)]
pub struct Buckets {
    /// Ingress state (the polling offset).
    pub ingress: kv::Store,
}

/// Creates both streams and the KV buckets when missing, and updates a stream whose settings
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
    bucket(js, INVOKE_BUCKET, INVOKE_KEEP, replicas).await?;
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
            && have.allow_direct == want.allow_direct
            && have.allow_message_schedules == want.allow_message_schedules;
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
        // A bucket made with another lifetime is corrected: the replay window of
        // `invoke_ids` and the life of job statuses depend on it.
        let backing = format!("KV_{name}");
        if let Ok(existing) = js.get_stream(&backing).await {
            let mut config = existing.cached_info().config.clone();
            if config.max_age != max_age {
                config.max_age = max_age;
                js.update_stream(config)
                    .await
                    .map_err(|e| err(name)(e.into()))?;
            }
        }
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

/// Looks up both streams and both buckets without changing anything, looking again every
/// second until `wait` has passed (`migrate` may still be running): what a function whose
/// NATS user may not declare the topology does at start.
pub async fn await_streams(
    js: &jetstream::Context,
    wait: Duration,
) -> Result<Buckets, TopologyError> {
    let started = Instant::now();
    let mut told = false;
    loop {
        let (what, last) = match look(js).await {
            Ok(buckets) => return Ok(buckets),
            Err(missing) => missing,
        };
        if started.elapsed() >= wait {
            return Err(TopologyError::Missing {
                what,
                waited: wait,
                last,
            });
        }
        if !told {
            tracing::warn!(missing = %what, error = %last, "waiting for `migrate` to declare the NATS topology");
            told = true;
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// The buckets when every stream and bucket is there, else what is missing and why.
async fn look(js: &jetstream::Context) -> Result<Buckets, (String, String)> {
    for name in [UPDATES_STREAM, JOBS_STREAM] {
        if let Err(e) = js.get_stream(name).await {
            return Err((format!("stream {name}"), e.to_string()));
        }
    }
    let mut found = Vec::new();
    for name in [JOBS_BUCKET, INGRESS_BUCKET] {
        match js.get_key_value(name).await {
            Ok(store) => found.push(store),
            Err(e) => return Err((format!("bucket {name}"), e.to_string())),
        }
    }
    let ingress = found.pop().expect("two buckets");
    Ok(Buckets { ingress })
}
