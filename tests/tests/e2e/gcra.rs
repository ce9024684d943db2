//! The one GCRA in the database (`migrations/0012_gcra.sql`), against a fresh migrated
//! database and no functions: the algorithm on fixed clocks, then the two budgets built on it —
//! the pacer of sends (`pace_take`, which also honours Telegram's pauses) and a user's rate
//! (`rate_take`, plain and weighted) — each in its own cells.

use sqlx::PgPool;
use standins::harness::TestDb;

async fn migrated() -> (TestDb, PgPool) {
    let db = TestDb::create().await.expect("database");
    let pool = PgPool::connect(&db.url).await.expect("connect");
    runtime::pg::db::migrate(&pool).await.expect("migrations");
    (db, pool)
}

/// `gcra_wait_ms` for a cell `ahead_ms` ahead of a fixed now.
async fn wait_ms(pool: &PgPool, ahead_ms: f64, cost: f64, interval: f64, burst: f64) -> i64 {
    sqlx::query_scalar(
        "SELECT gcra_wait_ms(t.now + $1 * interval '1 millisecond', t.now, $2, $3, $4)
         FROM (SELECT timestamptz '2025-01-01 12:00:00+00' AS now) t",
    )
    .bind(ahead_ms)
    .bind(cost)
    .bind(interval)
    .bind(burst)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn take(pool: &PgPool, sql: &'static str, key: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn gcra_lets_an_event_go_within_the_burst_and_says_how_long_to_wait_beyond_it() {
    let (_db, pool) = migrated().await;
    // A cell in the past counts as now.
    assert_eq!(wait_ms(&pool, -5_000.0, 1_000.0, 1_000.0, 0.0).await, 0);
    assert_eq!(wait_ms(&pool, 0.0, 1_000.0, 1_000.0, 0.0).await, 0);
    // Ahead of now: free up to the burst, then the rest, rounded up to a whole ms.
    assert_eq!(wait_ms(&pool, 2_000.0, 1_000.0, 1_000.0, 2_000.0).await, 0);
    assert_eq!(
        wait_ms(&pool, 2_250.5, 1_000.0, 1_000.0, 2_000.0).await,
        251
    );
    // An event costing more than one interval needs its extra cost of credit too.
    assert_eq!(wait_ms(&pool, 0.0, 3_000.0, 1_000.0, 2_000.0).await, 0);
    assert_eq!(wait_ms(&pool, 0.0, 4_000.0, 1_000.0, 2_000.0).await, 1_000);
    // After an event the cell is its cost past the later of itself and now.
    let (from_past, from_ahead): (bool, bool) = sqlx::query_as(
        "SELECT gcra_next_tat(t.now - interval '1 hour', t.now, 250) = t.now + interval '250 ms',
                gcra_next_tat(t.now + interval '1 s', t.now, 250) = t.now + interval '1250 ms'
         FROM (SELECT timestamptz '2025-01-01 12:00:00+00' AS now) t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(from_past && from_ahead);
}

#[tokio::test]
async fn the_pacer_takes_slots_per_chat_and_honours_a_pause() {
    let (_db, pool) = migrated().await;
    // One send a minute with two of burst: three go at once, the fourth waits about a minute.
    let pace = "SELECT pace_take($1, 60000, 120000)";
    for _ in 0..3 {
        assert_eq!(take(&pool, pace, "chat:1").await, 0);
    }
    let wait = take(&pool, pace, "chat:1").await;
    assert!((59_000..=60_000).contains(&wait), "{wait}");
    // Another chat has its own cell; the user's rate is another table.
    assert_eq!(take(&pool, pace, "chat:2").await, 0);
    assert_eq!(
        take(&pool, "SELECT rate_take($1, 60000, 0)", "user:1").await,
        0
    );
    // A bot-wide pause holds every chat, however much credit it has.
    sqlx::query(
        "INSERT INTO send_pace (key, paused_until) VALUES ('global', now() + interval '5 s')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let wait = take(&pool, pace, "chat:3").await;
    assert!((4_000..=5_000).contains(&wait), "{wait}");
}

#[tokio::test]
async fn the_rate_limit_charges_each_event_its_cost() {
    let (_db, pool) = migrated().await;
    // Plain: one a minute with one of burst.
    let plain = "SELECT rate_take($1, 60000, 60000)";
    assert_eq!(take(&pool, plain, "user:1").await, 0);
    assert_eq!(take(&pool, plain, "user:1").await, 0);
    let wait = take(&pool, plain, "user:1").await;
    assert!((59_000..=60_000).contains(&wait), "{wait}");
    // Weighted: a first event is always let through, whatever it costs; then a cheap one
    // waits until what is left of it, less the cheap one's saving, fits the burst.
    let weighted = "SELECT rate_take($1, 240000, 60000, 60000)";
    assert_eq!(take(&pool, weighted, "user:2").await, 0);
    let cheap = "SELECT rate_take($1, 15000, 60000, 60000)";
    let wait = take(&pool, cheap, "user:2").await;
    assert!((134_000..=135_000).contains(&wait), "{wait}");
    // A pause of the pacer does not touch the user's rate.
    sqlx::query(
        "INSERT INTO send_pace (key, paused_until) VALUES ('global', now() + interval '5 s')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(take(&pool, plain, "user:3").await, 0);
}
