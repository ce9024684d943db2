//! The front door: secret, malformed bodies, duplicates.

use runtime::nats::topology::UPDATES_STREAM;
use standins::system::{System, text_of};
use standins::updates;

use crate::helpers::{Chat, last_seq, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_and_malformed_bodies_publish_nothing() {
    let sys = System::start("ingress", &[]).await.unwrap();
    let before = last_seq(&sys, UPDATES_STREAM).await;
    let good =
        serde_json::to_vec(&updates::text(1, 1, &updates::User::new(7, "Bo"), "/start")).unwrap();
    assert_eq!(sys.post_raw(good.clone(), Some("wrong")).await, 403);
    assert_eq!(sys.post_raw(good.clone(), None).await, 403);
    for body in [
        &b"not json"[..],
        b"[1,2]",
        br#"{"update_id":"1"}"#,
        br#"{"message":{}}"#,
        b"",
    ] {
        assert_eq!(
            sys.post_raw(body.to_vec(), Some(&sys.secret)).await,
            400,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let huge = format!(r#"{{"update_id":5,"pad":"{}"}}"#, "x".repeat(2 << 20));
    assert_eq!(
        sys.post_raw(huge.into_bytes(), Some(&sys.secret)).await,
        413
    );
    assert_eq!(
        last_seq(&sys, UPDATES_STREAM).await,
        before,
        "nothing was published"
    );
    let answered = sys
        .tg
        .calls()
        .iter()
        .any(|c| !c.method.eq_ignore_ascii_case("setMyCommands"));
    assert!(!answered, "nobody was answered");
    let token_in_logs = sys.all_logs().contains(standins::system::TEST_TOKEN);
    assert!(!token_in_logs, "the bot token must never be logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_update_twice_has_one_effect_even_past_the_dedup_window() {
    let sys = System::start("duplicates", &[]).await.unwrap();
    let chat = Chat::new(&sys, 6001);
    let start = updates::text(sys.tg.next_update_id(), 1, &chat.user, "/start");
    assert_eq!(sys.post_update(&start).await, 200);
    assert_eq!(
        sys.post_update(&start).await,
        200,
        "a retry from Telegram is accepted"
    );
    // A copy that slipped past JetStream's duplicate window (a different Nats-Msg-Id, as a
    // day-late redelivery would be) must be caught by Postgres.
    let js = sys.js().await.unwrap();
    let raw = serde_json::to_vec(&start).unwrap();
    js.publish(
        runtime::nats::topology::update_subject(chat.user.id),
        raw.into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    chat.expect_message(0, |c| {
        text_of(c).contains(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::AgeGate,
        ))
    })
    .await;
    // All three copies were taken and acked; the third reached Postgres' dedup.
    settle(&sys).await;
    assert!(
        sys.log("fn-updates").contains("update seen before"),
        "the copy past the window was caught by processed_updates"
    );
    let welcomes = sys.tg.calls_of("sendmessage").len();
    assert_eq!(welcomes, 1, "exactly one answer: {:#?}", sys.tg.calls());
    let pool = sys.pool().await.unwrap();
    let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_updates")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(processed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_message_is_counted_once() {
    let sys = System::start("tracked-once", &[]).await.unwrap();
    let chat = Chat::new(&sys, 6002);
    chat.open_dialog().await;
    let since = sys.tg.calls().len();
    let said = chat.say("count me once").await;
    chat.expect_message(since, |c| {
        text_of(c) == standins::llm::answer_for("count me once")
    })
    .await;
    // The same update again, past JetStream's duplicate window.
    let js = sys.js().await.unwrap();
    js.publish(
        runtime::nats::topology::update_subject(chat.user.id),
        serde_json::to_vec(&said).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    settle(&sys).await;
    let pool = sys.pool().await.unwrap();
    let (messages, sessions, days): (i32, i32, i32) = sqlx::query_as(
        "SELECT total_messages, total_sessions, days_active FROM user_retention WHERE user_id = $1",
    )
    .bind(chat.user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((messages, sessions, days), (1, 1, 1));
    let (today, dialogs, per_dialog): (i32, i32, i32) = sqlx::query_as(
        "SELECT a.messages_count, a.dialogs_created, d.user_messages
         FROM user_activity a JOIN dialogs d ON d.user_id = a.user_id
         WHERE a.user_id = $1 AND a.activity_date = current_date",
    )
    .bind(chat.user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((today, dialogs, per_dialog), (1, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_mode_fetches_updates_and_stores_the_offset_after_publishing() {
    let sys = System::start("polling", &[("INGRESS_MODE", "polling")])
        .await
        .unwrap();
    let user = updates::User::new(6101, "Pia");
    let id = sys.tg.next_update_id();
    assert_eq!(
        sys.tg.deliver(updates::text(id, 1, &user, "/start")).await,
        200
    );
    let chat = Chat::new(&sys, 6101);
    chat.expect_message(0, |c| {
        text_of(c).contains(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::AgeGate,
        ))
    })
    .await;
    let js = sys.js().await.unwrap();
    let kv = js
        .get_key_value(runtime::nats::topology::INGRESS_BUCKET)
        .await
        .unwrap();
    let offset = standins::harness::wait_for("the stored offset", crate::helpers::STEP, || {
        let kv = kv.clone();
        async move {
            let v = kv.get("polling_offset").await.ok()??;
            std::str::from_utf8(&v).ok()?.parse::<i64>().ok()
        }
    })
    .await
    .unwrap();
    assert_eq!(
        offset,
        id + 1,
        "the offset confirms exactly the published update"
    );
    assert_eq!(
        sys.tg.calls_of("deletewebhook").len(),
        1,
        "polling clears a stale webhook once at start"
    );
}
