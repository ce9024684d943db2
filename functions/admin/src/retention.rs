//! The retention section: D1/D4/D7/D30 by signup-day cohort over 60 days, as a table and a
//! curve. A user is retained on day N when active on their signup day + N; a cohort younger
//! than N days has no DN yet. Cohort sizes are counted on every render; a cohort's DN cells
//! are computed from `users` and `user_activity` and, once their day is over, kept in
//! `retention_cells` (on the main database: the read pool may be a replica) with the size
//! they were computed for — past days do not change unless history is imported or users
//! erased, and then the size differs and the cohort is computed again. So a render computes
//! only the cells that became final since the last one and today's; fn-admin computes them
//! all at start (and anew for a new `ADMIN_TZ`).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use companion::ui::admin::Section;
use sqlx::PgPool;

use crate::charts::Chart;
use crate::sections::percent;
use crate::view::View;

/// Retention days shown, D1 … D30.
pub const RETENTION_DAYS: [i32; 4] = [1, 4, 7, 30];
/// How many signup days back.
const COHORT_DAYS: i64 = 60;

/// Cells by (signup day, n); n = 0 is the cohort's size.
type Cells = HashMap<(NaiveDate, i32), i64>;

/// The cells of the last 60 cohorts: the sizes counted now, the rest kept or computed (and
/// kept once final). A kept cohort whose size no longer matches (history imported, users
/// erased) is computed again.
async fn cells(read: &PgPool, main: &PgPool) -> sqlx::Result<(NaiveDate, Cells)> {
    let (today, sizes): (NaiveDate, sqlx::types::Json<Vec<(NaiveDate, i64)>>) = sqlx::query_as(
        "SELECT current_date, coalesce(json_agg(json_build_array(day, n)), '[]')
         FROM (SELECT created_at::date AS day, count(*) AS n FROM users
               WHERE created_at >= current_date - $1::int GROUP BY 1) s",
    )
    .bind(COHORT_DAYS as i32)
    .fetch_one(read)
    .await?;
    let sizes: HashMap<NaiveDate, i64> = sizes.0.into_iter().collect();
    let kept: Vec<(NaiveDate, i32, i64)> = sqlx::query_as(
        "SELECT day, n, users FROM retention_cells
         WHERE time_zone = current_setting('TimeZone') AND day >= current_date - $1::int",
    )
    .bind(COHORT_DAYS as i32)
    .fetch_all(main)
    .await?;
    let valid = |day: &NaiveDate| {
        kept.iter()
            .any(|(d, n, u)| d == day && *n == 0 && Some(u) == sizes.get(day))
    };
    let mut cells: Cells = kept
        .iter()
        .filter(|(d, n, _)| *n > 0 && valid(d))
        .map(|(d, n, u)| ((*d, *n), *u))
        .collect();
    cells.extend(sizes.iter().map(|(d, s)| ((*d, 0), *s)));
    let (mut days, mut ns) = (Vec::new(), Vec::new());
    for (day, _) in sizes.iter().filter(|(_, s)| **s > 0) {
        let age = (today - *day).num_days();
        for n in RETENTION_DAYS {
            if i64::from(n) <= age && !cells.contains_key(&(*day, n)) {
                days.push(*day);
                ns.push(n);
            }
        }
    }
    let computed: Vec<(NaiveDate, i32, i64)> = match days.is_empty() {
        true => Vec::new(),
        false => {
            sqlx::query_as(
                "WITH w AS (SELECT * FROM unnest($1::date[], $2::int[]) AS w(day, n)),
                      c AS (SELECT id, created_at::date AS day FROM users
                            WHERE created_at >= (SELECT min(day) FROM w)
                              AND created_at < (SELECT max(day) FROM w) + 1)
                 SELECT w.day, w.n, count(*) FILTER (WHERE EXISTS (
                            SELECT 1 FROM user_activity a
                            WHERE a.user_id = c.id AND a.activity_date = w.day + w.n))
                 FROM w JOIN c ON c.day = w.day GROUP BY w.day, w.n",
            )
            .bind(&days)
            .bind(&ns)
            .fetch_all(read)
            .await?
        }
    };
    // Keep what is final: the sizes of past days that changed, and cells whose day is over.
    let fresh_sizes = sizes
        .iter()
        .filter(|(d, _)| **d < today && !valid(d))
        .map(|(d, s)| (*d, 0, *s));
    let last: Vec<(NaiveDate, i32, i64)> = computed
        .iter()
        .copied()
        .filter(|(d, n, _)| *d + Duration::days(i64::from(*n)) < today)
        .chain(fresh_sizes)
        .collect();
    if !last.is_empty() {
        sqlx::query(
            "INSERT INTO retention_cells (time_zone, day, n, users)
             SELECT current_setting('TimeZone'), * FROM unnest($1::date[], $2::int[], $3::bigint[])
             ON CONFLICT (time_zone, day, n) DO UPDATE SET users = EXCLUDED.users",
        )
        .bind(last.iter().map(|c| c.0).collect::<Vec<_>>())
        .bind(last.iter().map(|c| c.1).collect::<Vec<_>>())
        .bind(last.iter().map(|c| c.2).collect::<Vec<_>>())
        .execute(main)
        .await?;
    }
    cells.extend(computed.into_iter().map(|(d, n, u)| ((d, n), u)));
    Ok((today, cells))
}

/// Computes and keeps every final cell (fn-admin does this at start, so the first Retention an
/// admin opens is as quick as the next).
pub async fn warm(read: &PgPool, main: &PgPool) -> sqlx::Result<()> {
    cells(read, main).await.map(|_| ())
}

/// D1/D4/D7/D30 by signup-day cohort (14 cohorts a page, and all cohorts old enough together).
pub async fn retention(read: &PgPool, main: &PgPool) -> sqlx::Result<View> {
    let (today, cells) = cells(read, main).await?;
    // (day, size, age, back on D1/D4/D7/D30), newest first, cohorts with signups only.
    let cohorts: Vec<(NaiveDate, i64, i32, [i64; 4])> = (0..=COHORT_DAYS)
        .map(|age| today - Duration::days(age))
        .filter_map(|day| {
            let size = *cells.get(&(day, 0)).filter(|s| **s > 0)?;
            let back = RETENTION_DAYS.map(|n| cells.get(&(day, n)).copied().unwrap_or(0));
            Some((day, size, (today - day).num_days() as i32, back))
        })
        .collect();
    let mut head = String::from("🔁 Retention by signup day\n\n");
    let mut total = [(0i64, 0i64); 4];
    for (_, size, age, back) in &cohorts {
        for (k, n) in RETENTION_DAYS.iter().enumerate() {
            if age >= n {
                total[k].0 += back[k];
                total[k].1 += size;
            }
        }
    }
    // "D1 50% · D4 25% · D7 – · D30 –": a cohort younger than N days has no DN.
    let row = |parts: [(i64, i64); 4], age: i32| {
        let cells: Vec<String> = RETENTION_DAYS
            .iter()
            .zip(parts)
            .map(|(n, (part, whole))| match age >= *n {
                true => format!("D{n} {}", percent(part, whole)),
                false => format!("D{n} –"),
            })
            .collect();
        cells.join(" · ")
    };
    head += &format!("all (60 days): {}\n\n", row(total, i32::MAX));
    if cohorts.is_empty() {
        head.push_str("No signups in the last 60 days.");
    }
    let lines = cohorts
        .iter()
        .map(|(day, size, age, back)| {
            let parts = [0, 1, 2, 3].map(|k| (back[k], *size));
            format!("{day} ({size}): {}", row(parts, *age))
        })
        .collect();
    // The curve of all cohorts, and of the four latest old enough for D1.
    let curve = |parts: [(i64, i64); 4], age: i32| {
        let points = RETENTION_DAYS.iter().zip(parts);
        points
            .map(|(n, (part, whole))| {
                (age >= *n && whole > 0).then(|| (part * 100) as f64 / whole as f64)
            })
            .collect::<Vec<_>>()
    };
    let mut series = vec![("all cohorts".to_owned(), curve(total, i32::MAX))];
    for (day, size, age, back) in cohorts.iter().filter(|c| c.2 >= 1).take(4) {
        series.push((
            day.to_string(),
            curve([0, 1, 2, 3].map(|k| (back[k], *size)), *age),
        ));
    }
    let chart = Chart {
        title: "Retention by signup day".into(),
        x: RETENTION_DAYS.iter().map(|n| format!("D{n}")).collect(),
        series,
        y_max: Some(100.0),
        unit: "%",
    };
    Ok(View {
        chart: Some(chart),
        ..View::table(Section::Retention, head, lines, 14)
    })
}
