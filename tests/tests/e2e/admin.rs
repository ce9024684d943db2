//! The admin panel through the real functions: an admin's `/admin` reaches fn-admin and shows
//! figures that match a dataset the test seeded (retention computed here, independently of the
//! panel's SQL), sections switch in place; anyone else gets exactly the unknown-command answer
//! and nothing reaches fn-admin; a panel button pressed by a non-admin does nothing; stopping
//! fn-admin leaves chat untouched. Retention comes with its chart.

use chrono::{Duration, Utc};
use standins::system::{System, text_of};

use crate::helpers::{Chat, settle};

const ADMIN: i64 = 9001;

/// (days ago the cohort signed up, users, for each of D1/D4/D7/D30 how many came back).
const COHORTS: [(i64, i64, [i64; 4]); 2] = [(10, 8, [4, 2, 6, 0]), (3, 6, [3, 0, 0, 0])];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_the_panel_and_nobody_else_learns_it_exists() {
    let sys = System::start("admin", &[("ADMIN_USER_IDS", "9001, 424242")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let mut id = 100;
    for (ago, size, back) in COHORTS {
        let day = Utc::now() - Duration::days(ago);
        for i in 0..size {
            id += 1;
            sqlx::query("INSERT INTO users (id, first_name, created_at) VALUES ($1, 'seed', $2)")
                .bind(id)
                .bind(day)
                .execute(&pool)
                .await
                .unwrap();
            for (k, n) in [1i64, 4, 7, 30].into_iter().enumerate() {
                if i < back[k] {
                    sqlx::query("INSERT INTO user_activity (user_id, activity_date, messages_count) VALUES ($1, ($2::timestamptz)::date + $3::int, 2)")
                        .bind(id)
                        .bind(day)
                        .bind(n as i32)
                        .execute(&pool)
                        .await
                        .unwrap();
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
        let day = (Utc::now() - Duration::days(ago)).date_naive();
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
    assert_eq!(jobs, 4, "only the admin's four requests reached fn-admin");
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
