//! The retention section: D1/D4/D7/D30 by signup-day cohort, as a table and a curve.

use shared::admin::Section;
use sqlx::PgPool;

use crate::sections::{Chart, percent};
use crate::view::View;

/// Retention days shown, D1 … D30.
pub const RETENTION_DAYS: [i32; 4] = [1, 4, 7, 30];

fn back(c: &Cohort) -> [i64; 4] {
    [c.d1, c.d4, c.d7, c.d30]
}

#[derive(sqlx::FromRow)]
struct Cohort {
    day: chrono::NaiveDate,
    size: i64,
    age: i32,
    d1: i64,
    d4: i64,
    d7: i64,
    d30: i64,
}

/// D1/D4/D7/D30 by signup-day cohort over 60 days (14 cohorts a page, and all cohorts old
/// enough together): a user is retained on day N when active on their signup day + N. A cohort
/// younger than N days has no DN yet.
pub async fn retention(pool: &PgPool) -> sqlx::Result<View> {
    let cohorts: Vec<Cohort> = sqlx::query_as(
        "WITH c AS (SELECT id, created_at::date AS day FROM users
                    WHERE created_at >= current_date - 60)
         SELECT c.day, count(*) AS size, (current_date - c.day)::int AS age,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM user_activity a
                    WHERE a.user_id = c.id AND a.activity_date = c.day + 1)) AS d1,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM user_activity a
                    WHERE a.user_id = c.id AND a.activity_date = c.day + 4)) AS d4,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM user_activity a
                    WHERE a.user_id = c.id AND a.activity_date = c.day + 7)) AS d7,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM user_activity a
                    WHERE a.user_id = c.id AND a.activity_date = c.day + 30)) AS d30
         FROM c GROUP BY c.day ORDER BY c.day DESC",
    )
    .fetch_all(pool)
    .await?;
    let mut head = String::from("🔁 Retention by signup day\n\n");
    let mut total = [(0i64, 0i64); 4];
    for c in &cohorts {
        for (k, n) in RETENTION_DAYS.iter().enumerate() {
            if c.age >= *n {
                total[k].0 += back(c)[k];
                total[k].1 += c.size;
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
        .map(|c| {
            let b = back(c);
            let parts = [0, 1, 2, 3].map(|k| (b[k], c.size));
            format!("{} ({}): {}", c.day, c.size, row(parts, c.age))
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
    for c in cohorts.iter().filter(|c| c.age >= 1).take(4) {
        let b = back(c);
        series.push((
            c.day.to_string(),
            curve([0, 1, 2, 3].map(|k| (b[k], c.size)), c.age),
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
