//! Per-hop timing: where one message's time goes in a stage, exported as
//! `companion_hop_seconds{stage, part}`. Every publish carries the time it was published
//! ([`PUBLISHED_HEADER`]); the runner records the wait from there to delivery (`queue`), the
//! wait behind the chat's earlier messages (`turn`), the handler split into its parts — SQL
//! statements (`sql`, read from sqlx's own per-statement events by [`SqlLayer`], so no call
//! site is wrapped), outside HTTP calls (`outside`), the commit of the decision (`commit`),
//! publishing with the stream's acks (`publish`), reads from the broker (`nats`) and the rest
//! (`other`: CPU, pool waits, scheduling) — a deferral's wait (`parked`) and the whole hop, published → settled
//! (`total`). The parts of a handler are summed in a task-local [`Clock`] the runner opens
//! around it; code outside a runner (start-up, the sweeper) records nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context as LayerContext;

/// The header every published message carries: microseconds since the Unix epoch when it
/// was published.
pub const PUBLISHED_HEADER: &str = "Companion-Published-At";

/// The histogram.
pub const METRIC: &str = "companion_hop_seconds";
/// SQL statements run by a stage's handlers.
pub const STATEMENTS: &str = "companion_sql_statements_total";

/// Its buckets, seconds: fine below 50 ms, where a hop's parts live.
pub const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008,
    0.01, 0.0125, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0, 60.0,
];

/// A part of a handler's time that code marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// SQL statements outside the commit.
    Sql,
    /// HTTP calls to Telegram, the LLM, the image and speech APIs.
    Outside,
    /// The statement or transaction that stores the decision and its effects.
    Commit,
    /// Publishing jobs and waiting for the stream's acks.
    Publish,
    /// Reading from the broker (a stream's message, a key-value entry).
    Nats,
}

impl Part {
    const ALL: [Part; 5] = [
        Part::Sql,
        Part::Outside,
        Part::Commit,
        Part::Publish,
        Part::Nats,
    ];

    /// The `part` label.
    pub fn label(self) -> &'static str {
        match self {
            Part::Sql => "sql",
            Part::Outside => "outside",
            Part::Commit => "commit",
            Part::Publish => "publish",
            Part::Nats => "nats",
        }
    }
}

/// The parts of one handler's time, summed (atomics only so that the task-local handle is
/// `Send`; one task writes them).
#[derive(Debug, Default)]
pub struct Clock {
    spent_ns: [AtomicU64; 5],
    /// Inside a marked part: what runs within it is that part's, not counted again.
    depth: AtomicU32,
    /// SQL statements run (the commit's included).
    statements: AtomicU32,
    /// The parts entered, one bit each: only those are recorded.
    entered: AtomicU32,
}

tokio::task_local! {
    static CLOCK: Arc<Clock>;
}

impl Clock {
    fn add(&self, part: Part, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.spent_ns[part as usize].fetch_add(ns, Ordering::Relaxed);
        self.entered.fetch_or(1 << part as u32, Ordering::Relaxed);
    }

    /// Whether the handler spent any of its time in `part` (a statement, a call, …).
    pub fn entered(&self, part: Part) -> bool {
        self.entered.load(Ordering::Relaxed) & (1 << part as u32) != 0
    }

    /// Time spent in `part`.
    pub fn spent(&self, part: Part) -> Duration {
        Duration::from_nanos(self.spent_ns[part as usize].load(Ordering::Relaxed))
    }

    fn depth(&self) -> u32 {
        self.depth.load(Ordering::Relaxed)
    }
}

/// Runs `work` with a fresh clock; `clock` reads it once `work` is done. A wrapper, not an
/// `async fn`: a future passed by value into an `async fn` takes its room twice, and the
/// handler's future is large and held by every message in flight.
pub fn measure<F: Future>(work: F) -> (impl Future<Output = F::Output>, Arc<Clock>) {
    let clock = Arc::new(Clock::default());
    (CLOCK.scope(clock.clone(), work), clock)
}

pin_project_lite::pin_project! {
    /// [`part`]'s future.
    pub struct Marked<F> {
        #[pin]
        work: F,
        part: Part,
        started: Option<Instant>,
        counted: bool,
    }

    impl<F> PinnedDrop for Marked<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(started) = this.started.take() {
                leave(*this.part, started, *this.counted);
            }
        }
    }
}

/// Runs `work` and counts its wall time to `part` (SQL or calls inside it are not counted
/// again), however it ends (dropped too); outside a measured handler it only runs `work`.
pub fn part<F: Future>(part: Part, work: F) -> Marked<F> {
    Marked {
        work,
        part,
        started: None,
        counted: false,
    }
}

impl<F: Future> Future for Marked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.started.is_none() {
            *this.started = Some(Instant::now());
            *this.counted = CLOCK
                .try_with(|c| c.depth.fetch_add(1, Ordering::Relaxed))
                .is_ok();
        }
        let out = this.work.poll(cx);
        if out.is_ready()
            && let Some(started) = this.started.take()
        {
            leave(*this.part, started, *this.counted);
        }
        out
    }
}

/// A marked part ends: counted when it was the outermost.
fn leave(part: Part, started: Instant, counted: bool) {
    if counted {
        let _ = CLOCK.try_with(|c| {
            if c.depth.fetch_sub(1, Ordering::Relaxed) == 1 {
                c.add(part, started.elapsed());
            }
        });
    }
}

/// Counts `d` to `part` of the current handler (unless inside another marked part).
pub fn add(part: Part, d: Duration) {
    let _ = CLOCK.try_with(|c| {
        if c.depth() == 0 {
            c.add(part, d);
        }
    });
}

/// Records `d` as `part` of `stage`'s hop.
pub fn record(stage: &'static str, part: &'static str, d: Duration) {
    metrics::histogram!(METRIC, "stage" => stage, "part" => part).record(d.as_secs_f64());
}

/// A SQL statement of `d` ran: counted, and its time is `sql` unless inside another part.
fn statement(d: Duration) {
    let _ = CLOCK.try_with(|c| {
        c.statements.fetch_add(1, Ordering::Relaxed);
        if c.depth() == 0 {
            c.add(Part::Sql, d);
        }
    });
}

/// Records the parts a handler entered and the rest of its `handled` time as `other`, and
/// counts its SQL statements (`companion_sql_statements_total{stage}`).
pub fn record_handler(stage: &'static str, clock: &Clock, handled: Duration) {
    let statements = clock.statements.load(Ordering::Relaxed);
    metrics::counter!(STATEMENTS, "stage" => stage).increment(u64::from(statements));
    let mut marked = Duration::ZERO;
    for p in Part::ALL.into_iter().filter(|p| clock.entered(*p)) {
        let d = clock.spent(p);
        marked += d;
        record(stage, p.label(), d);
    }
    record(stage, "other", handled.saturating_sub(marked));
}

/// A message's arrival at a stage: its queue wait (first deliveries with the header only)
/// recorded now, and its whole hop when [`Arrival::settled`].
pub struct Arrival {
    stage: &'static str,
    at: Instant,
    queued: Option<Duration>,
}

impl Arrival {
    /// A message delivered for the `delivered`-th time, with `published` (the header's value).
    pub fn new(stage: &'static str, delivered: i64, published: Option<&str>) -> Self {
        // A redelivery's wait includes its nak delay: not a queue's.
        let queued = (delivered == 1)
            .then(|| since_published(published))
            .flatten();
        if let Some(q) = queued {
            record(stage, "queue", q);
        }
        Self {
            stage,
            at: Instant::now(),
            queued,
        }
    }

    /// The message was settled (acked, nak'd, answered).
    pub fn settled(self) {
        if let Some(q) = self.queued {
            record(self.stage, "total", q + self.at.elapsed());
        }
    }
}

/// The header's value for a message published now.
pub fn published_now() -> String {
    micros(SystemTime::now()).to_string()
}

/// Time since a message was published, from its header's value (`None` when absent or
/// unreadable; zero when the publisher's clock is ahead of ours).
pub fn since_published(header: Option<&str>) -> Option<Duration> {
    let at: u128 = header?.trim().parse().ok()?;
    Some(Duration::from_micros(
        micros(SystemTime::now()).saturating_sub(at) as u64,
    ))
}

fn micros(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_micros()
}

/// Reads each SQL statement's time from sqlx's own event (target `sqlx::query`, field
/// `elapsed_secs`) into the current handler's clock. Installed by [`crate::telemetry::init`]
/// with a filter of its own, so the log's level does not decide what is timed.
pub struct SqlLayer;

impl<S: tracing::Subscriber> Layer<S> for SqlLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: LayerContext<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut seen = Elapsed(None);
        event.record(&mut seen);
        if let Some(secs) = seen.0 {
            statement(Duration::from_secs_f64(secs.max(0.0)));
        }
    }
}

struct Elapsed(Option<f64>);

impl Visit for Elapsed {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

#[cfg(test)]
mod tests;
