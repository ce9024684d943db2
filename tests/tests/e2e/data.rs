//! What is kept and what is erased, under faults: an erasure whose last step fails once still
//! finishes; erasure matches ids exactly (another user's row that merely carries the number
//! as a dialog or message id stays); dead letters are pruned after `DEAD_LETTER_DAYS`;
//! deleting a chat does not give its photos back to the user's limit.

use standins::system::{System, buttons_of, text_of};

use crate::helpers::{Chat, STEP, settle};
use crate::photos::photo_of;

const USER: i64 = 7_780_001;
const OTHER: i64 = 7_780_002;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_whose_last_step_fails_once_finishes_and_matches_ids_exactly() {
    let sys = System::start("erasure-retry", &[]).await.unwrap();
    let pool = sys.pool().await.unwrap();
    let chat = Chat::new(&sys, USER);
    chat.open_dialog().await;
    chat.turn("remember me").await;
    // Another user's rows that carry USER's number, but not as a chat or user.
    for (table, json) in [
        (
            "outbox",
            format!(r#"{{"payload":{{"chat_id":{OTHER},"dialog_id":{USER}}}}}"#),
        ),
        (
            "dead_letters",
            format!(
                r#"{{"update_id":{USER},"message":{{"message_id":{USER},"chat":{{"id":{OTHER}}}}}}}"#
            ),
        ),
    ] {
        let sql = match table {
            "outbox" => "INSERT INTO outbox (job_id, source, subject, payload, published_at)
                         VALUES (gen_random_uuid(), 'other', 'jobs.reply', convert_to($1, 'UTF8'), now())",
            _ => "INSERT INTO dead_letters (stage, subject, payload, error, delivered, chat_id)
                  VALUES ('fn-updates', 'updates.telegram.7780002', convert_to($1, 'UTF8'), 'x', 6, 7780002)",
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(json)
            .execute(&pool)
            .await
            .unwrap();
    }
    // The erasure's last step fails the first time it runs.
    sqlx::raw_sql(
        "CREATE SEQUENCE trip;
         CREATE FUNCTION trip_once() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             -- A sequence is not rolled back with the failed statement: it counts every run.
             IF nextval('trip') = 1 THEN RAISE EXCEPTION 'a passing failure'; END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER trip BEFORE UPDATE OF done_at ON erasures
             FOR EACH ROW EXECUTE FUNCTION trip_once();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let ask = chat
        .ask("/delete_my_data", |c| {
            buttons_of(c).contains(&"me:erase".to_owned())
        })
        .await;
    let since = sys.tg.calls().len();
    chat.press(&ask, "me:erase").await;
    chat.expect_message(since, |c| text_of(c).starts_with("🗑 Done"))
        .await;
    standins::harness::wait_for("the erasure to finish", STEP, || {
        let pool = pool.clone();
        async move {
            let done: bool =
                sqlx::query_scalar("SELECT bool_and(done_at IS NOT NULL) FROM erasures")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            done.then_some(())
        }
    })
    .await
    .expect("the erasure finishes after its last step failed once");
    let tries: i64 = sqlx::query_scalar("SELECT last_value FROM trip")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(tries >= 2, "the last step ran again: {tries}");
    let kept: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM outbox WHERE source = 'other'),
                (SELECT count(*) FROM dead_letters WHERE chat_id = 7780002)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        kept,
        (1, 1),
        "another user's rows that only carry the number stay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_dead_letters_are_pruned_and_a_deleted_chat_keeps_its_photos_counted() {
    let sys = System::start(
        "data-keeping",
        &[("MAX_PHOTOS_PER_USER", "1"), ("DEAD_LETTER_DAYS", "14")],
    )
    .await
    .unwrap();
    let pool = sys.pool().await.unwrap();
    sqlx::query(
        "INSERT INTO dead_letters (stage, subject, payload, error, delivered, created_at)
         VALUES ('fn-reply', 'jobs.reply', '\\x7b7d', 'old', 6, now() - interval '15 days'),
                ('fn-reply', 'jobs.reply', '\\x7b7d', 'recent', 6, now() - interval '13 days')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let chat = Chat::new(&sys, USER);
    let greeting = chat.open_dialog().await;
    photo_of(&chat, &greeting).await;
    // Delete the chat from 💬 My chats, then start another and ask for a photo.
    let list = chat
        .ask("/chats", |c| {
            buttons_of(c).iter().any(|b| b.starts_with("del:"))
        })
        .await;
    let del = buttons_of(&list)
        .into_iter()
        .find(|b| b.starts_with("del:"))
        .unwrap();
    let since = sys.tg.calls().len();
    chat.press(&list, &del).await;
    let ask = chat
        .expect_message(since, |c| {
            buttons_of(c).iter().any(|b| b.starts_with("delok:"))
        })
        .await;
    let ok = buttons_of(&ask)
        .into_iter()
        .find(|b| b.starts_with("delok:"))
        .unwrap();
    let since = sys.tg.calls().len();
    chat.press(&ask, &ok).await;
    chat.expect_message(since, |_| true).await;
    let since = sys.tg.calls().len();
    chat.say("/new").await;
    let fresh = chat
        .expect_message(since, |c| {
            buttons_of(c).iter().any(|b| b.starts_with("photo:"))
        })
        .await;
    let since = sys.tg.calls().len();
    let button = buttons_of(&fresh)
        .into_iter()
        .find(|b| b.starts_with("photo:"))
        .unwrap();
    chat.press(&fresh, &button).await;
    let limit = companion::locale::t(
        companion::locale::Lang::En,
        companion::locale::T::PhotoLimitUser,
    )
    .replace("{max}", "1");
    chat.sys
        .wait_call(since, STEP, |c| {
            text_of(c) == limit || c.params["text"] == limit.as_str()
        })
        .await
        .expect("the limit still counts the deleted chat's photo");
    settle(&sys).await;
    let left: Vec<String> = sqlx::query_scalar("SELECT error FROM dead_letters ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        left,
        vec!["recent".to_owned()],
        "the old dead letter is pruned"
    );
}
