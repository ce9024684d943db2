//! PostgreSQL pool, the embedded migrations, the start-up check that refuses to run against a
//! schema older than this build, and the one statement two stages share (a photo slot given
//! back).

use std::collections::HashSet;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

/// The versioned files in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Database problems at start-up.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Could not connect.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
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

/// Opens a pool of at most `max` connections.
pub async fn connect(url: &str, max: u32) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // No ping before every acquire: a round trip per statement. A connection that broke
        // fails its statement, which is a transient error the runner retries.
        .test_before_acquire(false)
        .connect(url)
        .await
        .map_err(DbError::Connect)
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

/// Gives photo job `id`'s slot back (the photo will not come: refused, dialog gone, given up),
/// so it does not count against the user's limits.
pub async fn release_photo_slot<'e>(
    db: impl sqlx::PgExecutor<'e>,
    id: uuid::Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE photo_jobs SET state = 'failed' WHERE job_id = $1 AND state = 'pending'")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
