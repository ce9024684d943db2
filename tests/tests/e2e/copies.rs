//! What copies and time must not break: avatars whose cached file ids Telegram forgot, sent
//! in two menus at once (the second must not find the cache already moved and fail); a
//! chat's stuck update given up alone while its later updates wait in another copy; a
//! Telegram outage that must not multiply a waiting answer's send jobs.

use std::time::{Duration, Instant};

use companion::locale::{Lang, T, t};
use sqlx::Connection;
use standins::llm::answer_for;
use standins::system::{System, text_of};

use crate::helpers::{Chat, settle};

fn sorry() -> &'static str {
    t(Lang::En, T::Sorry)
}

/// Two persona menus committed while the cached avatar file ids are unknown to Telegram
/// (a token change): both must show every avatar, no Sorry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_menus_after_a_token_change_show_every_avatar() {
    let sys = System::start("avatars-forgotten", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7601);
    chat.open_dialog().await;
    let pool = sys.pool().await.unwrap();
    let n: u64 = sqlx::query(
        "UPDATE effects SET telegram_file_id = 'forgotten-' || id
         WHERE id IN (SELECT avatar_effect_id FROM girls) AND telegram_file_id IS NOT NULL",
    )
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    eprintln!("avatars whose file id Telegram no longer knows: {n}");
    assert!(n > 0);
    let since = sys.tg.calls().len();
    chat.say("/persona").await;
    chat.say("/persona").await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    settle(&sys).await;
    let calls = sys.tg.calls();
    let photos_ok = calls[since..]
        .iter()
        .filter(|c| c.method == "sendphoto" && c.params["chat_id"] == 7601 && !c.result.is_null())
        .count();
    let photos_refused = calls[since..]
        .iter()
        .filter(|c| c.method == "sendphoto" && c.params["chat_id"] == 7601 && c.result.is_null())
        .count();
    let failed: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT method, error FROM effects WHERE chat_id = 7601 AND state = 'failed'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    eprintln!(
        "ATK avatar: photos ok {photos_ok}, refused {photos_refused}, sorry {}, failed effects {failed:?}",
        chat.count_text(sorry())
    );
    assert_eq!(chat.count_text(sorry()), 0, "no sorry");
    assert!(failed.is_empty(), "no failed effects: {failed:?}");
}

/// A chat's oldest update stuck in one copy; the user's later quick messages sit in another
/// copy. Only the stuck one may be given up; the later ones must be answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_stuck_update_is_given_up_when_later_ones_wait_in_another_copy() {
    let sys = System::start("stuck-one-copy", &[("ORDER_GIVE_UP_SECS", "10")])
        .await
        .unwrap();
    let (x, z) = (Chat::new(&sys, 7611), Chat::new(&sys, 7612));
    x.open_dialog().await;
    z.open_dialog().await;
    settle(&sys).await;
    sys.stop_copy("fn-updates");
    sys.start_copy("fn-updates", "upd-a", &[("CONCURRENCY", "1")])
        .await
        .unwrap();
    sys.start_copy("fn-updates", "upd-b", &[("CONCURRENCY", "1")])
        .await
        .unwrap();
    let mut lock_x = sqlx::PgConnection::connect(&sys.db.url).await.unwrap();
    let mut lock_z = sqlx::PgConnection::connect(&sys.db.url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(7611i64)
        .execute(&mut lock_x)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(7612i64)
        .execute(&mut lock_z)
        .await
        .unwrap();
    z.say("z holds a copy").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    x.say("x one (stuck)").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 2..=5 {
        x.say(&format!("x number {i}")).await;
    }
    // The copy holding z's update is free again: it takes x's later updates.
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(7612i64)
        .execute(&mut lock_z)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(20)).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(7611i64)
        .execute(&mut lock_x)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    settle(&sys).await;
    let pool = sys.pool().await.unwrap();
    let dead: Vec<(String,)> = sqlx::query_as(
        "SELECT convert_from(payload, 'UTF8') FROM dead_letters WHERE stage = 'fn-updates'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let answered: Vec<usize> = (2..=5)
        .map(|i| x.count_text(&answer_for(&format!("x number {i}"))))
        .collect();
    eprintln!(
        "order: sorry to x {}, answers to 2..5 {answered:?}, dead letters {}:",
        x.count_text(sorry()),
        dead.len()
    );
    for (p,) in &dead {
        let v: serde_json::Value = serde_json::from_str(p).unwrap();
        eprintln!("   dead: {}", v["message"]["text"]);
    }
    assert_eq!(answered, vec![1, 1, 1, 1], "every later message answered");
    assert!(dead.len() <= 1, "only the stuck update given up");
}

/// Telegram down for a minute: how many send jobs and calls pile up for one answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_does_not_multiply_a_waiting_answers_send_jobs() {
    let sys = System::start("outage-jobs", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7621);
    chat.open_dialog().await;
    settle(&sys).await;
    let js = sys.js().await.unwrap();
    let since = sys.tg.calls().len();
    sys.tg.outage(Duration::from_secs(75));
    chat.say("are you there during the outage?").await;
    let start = Instant::now();
    let mut peak = 0;
    while start.elapsed() < Duration::from_secs(72) {
        tokio::time::sleep(Duration::from_secs(6)).await;
        let info =
            runtime::nats::topology::consumer_info(&js, &runtime::nats::topology::SEND_STAGE)
                .await
                .unwrap();
        peak = peak.max(info.num_ack_pending);
        let calls = sys.tg.calls()[since..]
            .iter()
            .filter(|c| c.params["chat_id"] == 7621 && c.method != "sendchataction")
            .count();
        eprintln!(
            "outage t={:>3}s: fn-send ack pending {}, calls to chat {calls}",
            start.elapsed().as_secs(),
            info.num_ack_pending
        );
    }
    let want = answer_for("are you there during the outage?");
    chat.expect_message(since, |c| text_of(c) == want).await;
    settle(&sys).await;
    let pool = sys.pool().await.unwrap();
    let (attempts,): (i64,) = sqlx::query_as(
        "SELECT coalesce(sum(attempts),0)::bigint FROM effects WHERE chat_id = 7621",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    eprintln!(
        "outage: peak ack pending {peak}, attempts {attempts}, shown {}",
        chat.count_text(&want)
    );
    assert_eq!(chat.count_text(&want), 1);
    assert!(peak <= 2, "send jobs piled up during the outage: {peak}");
}
