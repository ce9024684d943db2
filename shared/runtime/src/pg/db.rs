//! PostgreSQL pool (every connection counting days in `ADMIN_TZ`), the embedded migrations,
//! the start-up check that refuses to run against a schema older than this build, and the one
//! statement two stages share (a photo slot given back).

use std::collections::HashSet;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::Env;

/// The versioned files in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Database problems at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Could not connect.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    /// `ADMIN_TZ` names no time zone PostgreSQL knows.
    #[error("ADMIN_TZ={0:?}: PostgreSQL does not know this time zone ({1})")]
    TimeZone(String, String),
    /// The schema misses migrations this build needs.
    #[error(
        "the database schema is behind this build (missing migrations: {0}); run `make migrate` \
         (or the `migrate` binary) first"
    )]
    SchemaBehind(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other query failure.
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// How activity is counted, the same on every connection of every function: the time zone
/// whose calendar days are "days" (`ADMIN_TZ`, default UTC: `current_date`, `::date`) and the
/// idle minutes after which activity is a new session (`SESSION_GAP_MINUTES`, default 30;
/// read by the `track_activity` SQL function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// An IANA time zone name (`Europe/Moscow`) or `UTC`.
    pub time_zone: String,
    /// Idle minutes that end a session.
    pub session_gap_minutes: u32,
}

impl Default for Calendar {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            session_gap_minutes: 30,
        }
    }
}

impl Calendar {
    /// Reads `ADMIN_TZ` and `SESSION_GAP_MINUTES` (PostgreSQL checks the zone's name when
    /// the pool connects, and that error names `ADMIN_TZ`).
    pub fn read(env: &mut Env) -> Self {
        let time_zone = env.string("ADMIN_TZ", "UTC");
        let name_ok = !time_zone.is_empty()
            && time_zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !name_ok {
            env.problem(format!(
                "ADMIN_TZ={time_zone:?} is not a time zone name (such as UTC or Europe/Moscow)"
            ));
        }
        let session_gap_minutes = env.parse("SESSION_GAP_MINUTES", 30u32);
        if session_gap_minutes == 0 {
            env.problem("SESSION_GAP_MINUTES must be at least 1");
        }
        Self {
            time_zone,
            session_gap_minutes,
        }
    }
}

/// Planned once on each new connection: the server process loads the hot tables' and their
/// indexes' catalog entries, which otherwise makes each of a new connection's first
/// statements 5–15 ms slower than the same statement later. It takes the tables' weakest
/// lock: a migration waiting for a table leaves it cold rather than holding the connection.
const WARM_SQL: &str = "SELECT 1 FROM users, dialogs, chat_messages, girls, user_selected_girls,
     processed_updates, outbox, effects, send_pace LIMIT 0";

/// A pool of at most `max` connections, each counting days as `calendar` says (set after
/// connecting: sqlx's own start-up parameters pin `TimeZone` to UTC) and warmed.
fn pool_options(max: u32, calendar: &Calendar) -> PgPoolOptions {
    let (zone, gap) = (
        calendar.time_zone.clone(),
        calendar.session_gap_minutes.to_string(),
    );
    PgPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            let (zone, gap) = (zone.clone(), gap.clone());
            Box::pin(async move {
                // The lock timeout bounds the warm-up only (reset after it).
                sqlx::query(
                    "SELECT set_config('TimeZone', $1, false),
                            set_config('app.session_gap_minutes', $2, false),
                            set_config('lock_timeout', '250ms', false)",
                )
                .bind(zone)
                .bind(gap)
                .execute(&mut *conn)
                .await?;
                // Best effort: a schema without one of them, or one locked by a migration,
                // only stays cold.
                if let Err(e) = sqlx::query(WARM_SQL).execute(&mut *conn).await {
                    tracing::debug!(error = %e, "connection not warmed");
                }
                sqlx::query("RESET lock_timeout").execute(conn).await?;
                Ok(())
            })
        })
}

/// A pool of at most `max` connections that connects on first use (a read replica).
pub fn connect_lazy(url: &str, max: u32, calendar: &Calendar) -> Result<PgPool, DbError> {
    let options = url.parse::<PgConnectOptions>().map_err(DbError::Connect)?;
    Ok(pool_options(max, calendar).connect_lazy_with(options))
}

/// Opens a pool of at most `max` connections, each counting days as `calendar` says; an
/// unknown `ADMIN_TZ` is refused by name first (in the pool it would only time out). `warm`
/// connections are opened (and warmed) right after start-up and kept open, so the first
/// messages do not each pay for a new connection (3–5 ms) and a cold server process.
pub async fn connect(
    url: &str,
    (max, warm): (u32, u32),
    calendar: &Calendar,
) -> Result<PgPool, DbError> {
    let warm = warm.clamp(1, max.max(1));
    use sqlx::Connection;
    let options = url.parse::<PgConnectOptions>().map_err(DbError::Connect)?;
    let mut probe = sqlx::PgConnection::connect_with(&options)
        .await
        .map_err(DbError::Connect)?;
    let zone = sqlx::query("SELECT set_config('TimeZone', $1, false)")
        .bind(&calendar.time_zone)
        .execute(&mut probe)
        .await;
    let _ = probe.close().await;
    if let Err(e) = zone {
        let why = e
            .as_database_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_else(|| e.to_string());
        return Err(DbError::TimeZone(calendar.time_zone.clone(), why));
    }
    let pool = pool_options(max, calendar)
        .min_connections(warm)
        .acquire_timeout(Duration::from_secs(10))
        // No ping before every acquire: a round trip per statement. A connection that broke
        // fails its statement, which is a transient error the runner retries.
        .test_before_acquire(false)
        // Lazy: `connect_with` would open every warm connection, one after the other, before
        // start-up goes on.
        .connect_lazy_with(options);
    // One now, so a database that cannot be reached fails start-up.
    drop(pool.acquire().await.map_err(DbError::Connect)?);
    // The warm ones at once in the background (the reaper only tops up after it closes one):
    // acquired together, so the pool opens what it lacks, then handed back idle.
    let warming = pool.clone();
    tokio::spawn(async move {
        let opened = (0..warm).map(|_| warming.acquire());
        if let Err(e) = futures::future::try_join_all(opened).await {
            tracing::debug!(error = %e, "warm connections not opened");
        }
    });
    Ok(pool)
}

/// Applies every pending migration (takes an advisory lock, so copies may race safely).
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Fails with [`DbError::SchemaBehind`] when an embedded migration is not applied.
pub async fn check_schema(pool: &PgPool) -> Result<(), DbError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let applied: HashSet<i64> = applied.into_iter().collect();
    let missing: Vec<String> = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DbError::SchemaBehind(missing.join(", ")))
    }
}
