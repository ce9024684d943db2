//! The admin panel through the real functions: an admin's `/admin` reaches fn-admin and shows
//! figures that match a dataset the test seeded (retention computed here, independently of the
//! panel's SQL), sections switch in place; anyone else gets exactly the unknown-command answer
//! and nothing reaches fn-admin; a panel button pressed by a non-admin does nothing; stopping
//! fn-admin leaves chat untouched. Retention comes with its chart. Days are counted in
//! `ADMIN_TZ`, here fourteen hours ahead of UTC, so a UTC date would be wrong half the day.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, Utc};
use standins::system::{System, text_of};

use crate::helpers::{Chat, settle};

const ADMIN: i64 = 9001;

/// (days ago the cohort signed up, users, for each of D1/D4/D7/D30 how many came back).
const COHORTS: [(i64, i64, [i64; 4]); 2] = [(10, 8, [4, 2, 6, 0]), (3, 6, [3, 0, 0, 0])];

/// The panel's time zone, and today's date in it.
const TZ: &str = "Etc/GMT-14";
fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(14)).date_naive()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_the_panel_and_nobody_else_learns_it_exists() {
    let sys = System::start(
        "admin",
        &[("ADMIN_USER_IDS", "9001, 424242"), ("ADMIN_TZ", TZ)],
    )
    .await
    .unwrap();
    let pool = sys.pool().await.unwrap();
    let mut id = 100;
    // What the Daily section must show, worked out here: date → (active users, messages).
    let mut daily: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for (ago, size, back) in COHORTS {
        // Signed up at noon of that day in the panel's time zone.
        let day = today() - Duration::days(ago);
        let at = day.and_hms_opt(12, 0, 0).unwrap().and_utc() - Duration::hours(14);
        for i in 0..size {
            id += 1;
            sqlx::query("INSERT INTO users (id, first_name, created_at) VALUES ($1, 'seed', $2)")
                .bind(id)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
            for (k, n) in [1i64, 4, 7, 30].into_iter().enumerate() {
                if i < back[k] {
                    let active = day + Duration::days(n);
                    sqlx::query("INSERT INTO user_activity (user_id, activity_date, messages_count) VALUES ($1, $2, 2)")
                        .bind(id)
                        .bind(active)
                        .execute(&pool)
                        .await
                        .unwrap();
                    let e = daily.entry(active).or_default();
                    e.0 += 1;
                    e.1 += 2;
                }
            }
        }
    }

    let admin = Chat::new(&sys, ADMIN);
    let panel = admin
        .ask("/admin", |c| text_of(c).starts_with("📊 Overview"))
        .await;
    // Seeded users, plus the admin (every sender gets a row).
    assert!(
        text_of(&panel).contains(&format!("Users: {} ", 8 + 6 + 1)),
        "{}",
        text_of(&panel)
    );

    // Retention, shown in place of the overview, matches what the dataset says.
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:retention").await;
    let shown = admin
        .expect_call(since, |c| {
            c.method == "editmessagetext" && text_of(c).starts_with("🔁")
        })
        .await;
    for (ago, size, back) in COHORTS {
        let day = today() - Duration::days(ago);
        let cells: Vec<String> = [1i64, 4, 7, 30]
            .into_iter()
            .enumerate()
            .map(|(k, n)| {
                if ago >= n {
                    format!("D{n} {}%", (back[k] * 100 + size / 2) / size)
                } else {
                    format!("D{n} –")
                }
            })
            .collect();
        let line = format!("{day} ({size}): {}", cells.join(" · "));
        assert!(
            text_of(&shown).contains(&line),
            "want {line:?} in:\n{}",
            text_of(&shown)
        );
    }
    // Its chart: a PNG a phone shows well.
    let chart = admin.expect_call(since, |c| c.method == "sendphoto").await;
    let png = std::fs::read(chart.params["photo"]["path"].as_str().unwrap()).unwrap();
    let img = image::load_from_memory(&png).expect("a valid PNG");
    assert_eq!((img.width(), img.height()), (1200, 800));
    // Daily: every seeded day before today (today has the test's own users too).
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:daily").await;
    let days = admin
        .expect_call(since, |c| text_of(c).starts_with("📅"))
        .await;
    for (day, (active, messages)) in daily.iter().filter(|(d, _)| **d < today()) {
        let new = COHORTS
            .iter()
            .filter(|(ago, ..)| today() - Duration::days(*ago) == *day)
            .map(|(_, size, _)| size)
            .sum::<i64>();
        let line = format!("{day}  {active} · {messages} · 0 · {new}");
        assert!(
            text_of(&days).contains(&line),
            "want {line:?} in:\n{}",
            text_of(&days)
        );
    }
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:health").await;
    admin
        .expect_call(since, |c| {
            text_of(c).starts_with("🩺") && text_of(c).contains("fn-reply:")
        })
        .await;
    admin
        .ask(&format!("/admin user {}", 101), |c| {
            text_of(c).contains("Dialogs per persona") || text_of(c).starts_with("👤 No user")
        })
        .await;

    // Anyone else: exactly the unknown-command answer, and nothing for fn-admin.
    let other = Chat::new(&sys, 9002);
    let unknown = other
        .ask("/nosuchcommand", |c| !text_of(c).is_empty())
        .await;
    let answer = other.ask("/admin", |c| !text_of(c).is_empty()).await;
    assert_eq!(text_of(&answer), text_of(&unknown));
    let since = sys.tg.calls().len();
    other.press(&panel, "adm:overview").await;
    settle(&sys).await;
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE subject = 'jobs.admin'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, 5, "only the admin's five requests reached fn-admin");
    let visible = sys.tg.calls()[since..]
        .iter()
        .filter(|c| c.params["chat_id"] == other.user.id && c.method != "answercallbackquery")
        .count();
    assert_eq!(visible, 0, "a replayed panel button does nothing");

    // fn-admin stopped: chat goes on.
    sys.stop_copy("fn-admin");
    other.open_dialog().await;
    other.turn("still here?").await;
}
