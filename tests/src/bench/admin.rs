//! `make bench-admin`: the admin panel against a realistic dataset — by default 100,000 users,
//! about a million activity rows and three million messages over 90 days
//! (`BENCH_ADMIN_USERS` scales it) — seeded in a fresh database, then each section rendered as
//! fn-admin renders it (`fn_admin::render`: queries, page, chart PNG) against a real
//! nats-server, timed over several runs after a warm-up.

use std::time::{Duration, Instant};

use anyhow::Context;
use companion::ui::admin::{Request, Section};

use crate::harness::{NatsServer, TestDb, migrate};

/// The time budget of one section, chart included.
pub const BUDGET: Duration = Duration::from_millis(200);
/// Timed runs per section.
const RUNS: usize = 7;

/// One section's timings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Timing {
    /// What was asked.
    pub section: String,
    /// The first render, ms (for retention: every cell computed and kept).
    pub first_ms: f64,
    /// Median, ms.
    pub median_ms: f64,
    /// Slowest run, ms.
    pub max_ms: f64,
    /// The chart's size in bytes, when it has one.
    pub chart_bytes: Option<usize>,
}

/// What the run seeded, and each section's timings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdminReport {
    /// Rows per table.
    pub rows: Vec<(String, i64)>,
    /// Seeding time, s.
    pub seed_s: f64,
    /// Per section.
    pub sections: Vec<Timing>,
}

impl AdminReport {
    /// A table for the terminal.
    pub fn table(&self) -> String {
        let mut out = format!("dataset (seeded in {:.0} s):", self.seed_s);
        for (t, n) in &self.rows {
            out += &format!(" {t} {n};");
        }
        out += &format!(
            "\n\n{:<22} {:>10} {:>10} {:>10} {:>8}  under {} ms\n",
            "section",
            "first ms",
            "median ms",
            "max ms",
            "chart",
            BUDGET.as_millis()
        );
        for s in &self.sections {
            let chart = s.chart_bytes.map(|b| format!("{}k", b / 1024));
            out += &format!(
                "{:<22} {:>10.1} {:>10.1} {:>10.1} {:>8}  {}\n",
                s.section,
                s.first_ms,
                s.median_ms,
                s.max_ms,
                chart.unwrap_or("–".into()),
                if s.max_ms < BUDGET.as_secs_f64() * 1000.0 {
                    "yes"
                } else {
                    "NO"
                }
            );
        }
        out
    }
}

/// Seeds `users` users' worth of data and times every section.
pub async fn run(users: i64) -> anyhow::Result<AdminReport> {
    let db = TestDb::create().await?;
    migrate(&db.url)?;
    let pool = runtime::pg::db::connect(&db.url, (4, 1), &Default::default()).await?;
    let started = Instant::now();
    let seed = include_str!("admin_seed.sql").replace(":users", &users.to_string());
    sqlx::raw_sql(sqlx::AssertSqlSafe(seed))
        .execute(&pool)
        .await
        .context("seeding")?;
    sqlx::raw_sql("VACUUM ANALYZE").execute(&pool).await?;
    let seed_s = started.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    for table in [
        "users",
        "user_activity",
        "dialogs",
        "chat_messages",
        "photos",
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await?;
        rows.push((table.to_owned(), n));
    }

    let nats = NatsServer::start()?;
    let js = async_nats::jetstream::new(async_nats::connect(&nats.url).await?);
    runtime::nats::topology::ensure_streams(&js, Duration::from_secs(3600), 1).await?;
    for stage in runtime::nats::topology::STAGES {
        runtime::nats::topology::ensure_consumer(&js, &stage, Duration::from_secs(10)).await?;
    }
    let mut asks: Vec<(String, Request)> = Section::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), Request::section(*s)))
        .collect();
    asks.push((
        "users: one user".into(),
        Request {
            about_user: Some(1_000_001),
            ..Request::section(Section::Users)
        },
    ));
    asks.push((
        "users: page 5".into(),
        Request {
            page: 4,
            ..Request::section(Section::Users)
        },
    ));
    let mut sections = Vec::new();
    for (name, request) in asks {
        let t = Instant::now();
        fn_admin::render(&pool, &pool, &js, &request).await?;
        let first_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut ms = Vec::new();
        let mut chart_bytes = None;
        for _ in 0..RUNS {
            let t = Instant::now();
            let shown = fn_admin::render(&pool, &pool, &js, &request).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            chart_bytes = shown.chart.map(|c| c.len());
        }
        ms.sort_by(f64::total_cmp);
        sections.push(Timing {
            section: name,
            first_ms,
            median_ms: ms[RUNS / 2],
            max_ms: ms[RUNS - 1],
            chart_bytes,
        });
    }
    Ok(AdminReport {
        rows,
        seed_s,
        sections,
    })
}
