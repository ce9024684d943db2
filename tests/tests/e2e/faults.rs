//! The failures real deployments see most, each with what a user must still get: a text
//! PostgreSQL cannot store followed by a burst from the same user (another user is answered
//! within seconds), and a database blip while a chat has two updates in flight (both
//! answered, in order, and the chat goes on).

use std::time::{Duration, Instant};

use standins::llm::answer_for;
use standins::system::{System, text_of};

use crate::helpers::{Chat, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_text_and_a_burst_of_forty_never_keep_another_user_waiting() {
    let sys = System::start("nul-burst", &[]).await.unwrap();
    let (noisy, other) = (Chat::new(&sys, 7101), Chat::new(&sys, 7102));
    noisy.open_dialog().await;
    other.open_dialog().await;
    let since = sys.tg.calls().len();
    noisy.say("hi\u{0}there").await;
    for i in 0..40 {
        noisy.say(&format!("quick {i}")).await;
    }
    let asked = Instant::now();
    other.ask("are you there?", |c| text_of(c) == answer_for("are you there?")).await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "another user waited {waited:?} behind one user's burst"
    );
    // The text is stored and answered without the character PostgreSQL refuses.
    noisy
        .expect_message(since, |c| text_of(c) == answer_for("hi there"))
        .await;
    let pool = sys.pool().await.unwrap();
    let dead: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(dead, 0, "nothing given up");
}

/// Terminates every session of the system's database, again and again for `span`.
async fn blip(sys: &System, span: Duration) {
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into());
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    let db: String = sys.db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let until = Instant::now() + span;
    while Instant::now() < until {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db)
            .execute(&pool)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_blip_with_two_updates_in_flight_answers_both_in_order() {
    let sys = System::start("db-blip", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7103);
    chat.open_dialog().await;
    for round in 0..2 {
        let since = sys.tg.calls().len();
        let (first, second) = (format!("first {round}"), format!("second {round}"));
        let killer = blip(&sys, Duration::from_millis(1200));
        let talk = async {
            chat.say(&first).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            chat.say(&second).await;
        };
        tokio::join!(killer, talk);
        let a = chat.expect_message(since, |c| text_of(c) == answer_for(&first)).await;
        let b = chat.expect_message(since, |c| text_of(c) == answer_for(&second)).await;
        assert!(a.seq < b.seq, "answered out of order: {} then {}", b.seq, a.seq);
    }
    // The chat keeps working.
    chat.turn("still there?").await;
    settle(&sys).await;
    assert_eq!(chat.count_text(&answer_for("first 0")), 1);
    assert_eq!(chat.count_text(&answer_for("second 1")), 1);
}
