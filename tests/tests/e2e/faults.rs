//! The failures real deployments see most, each with what a user must still get: a text
//! PostgreSQL cannot store followed by a burst from the same user (another user is answered
//! within seconds); a database blip while a chat has two updates in flight (both answered, in
//! order, and the chat goes on); a message whose handling keeps ending the process (a dead
//! letter, not a crash loop); an answer over Telegram's limit as Telegram counts it (split,
//! delivered whole); an update no running copy can handle (given up after
//! `ORDER_GIVE_UP_SECS`, and the chat goes on).

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
    other
        .ask("are you there?", |c| {
            text_of(c) == answer_for("are you there?")
        })
        .await;
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
    let db: String = sys
        .db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
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
        let a = chat
            .expect_message(since, |c| text_of(c) == answer_for(&first))
            .await;
        let b = chat
            .expect_message(since, |c| text_of(c) == answer_for(&second))
            .await;
        assert!(
            a.seq < b.seq,
            "answered out of order: {} then {}",
            b.seq,
            a.seq
        );
    }
    // The chat keeps working.
    chat.turn("still there?").await;
    settle(&sys).await;
    assert_eq!(chat.count_text(&answer_for("first 0")), 1);
    assert_eq!(chat.count_text(&answer_for("second 1")), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_ending_its_process_becomes_a_dead_letter() {
    let sys = System::start("crash-loop", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7104);
    chat.open_dialog().await;
    // fn-reply is stopped; its deliveries of one job end without a word, as when handling it
    // kills the process (out of memory): a copy takes it, and is gone before it settles.
    sys.with_process("fn-reply", |p| p.kill9());
    let job = crate::helpers::reply_job_for(&chat, "this one ends every process", "crash-1").await;
    let js = sys.js().await.unwrap();
    js.publish(
        runtime::nats::topology::REPLY_SUBJECT,
        serde_json::to_vec(&job).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream(runtime::nats::topology::JOBS_STREAM)
        .await
        .unwrap()
        .get_consumer("fn-reply")
        .await
        .unwrap();
    use futures::StreamExt;
    let mut ended = 0;
    while ended <= runtime::runner::CRASH_LOOP {
        let mut batch = consumer.fetch().max_messages(1).messages().await.unwrap();
        if let Some(Ok(m)) = batch.next().await {
            m.ack_with(async_nats::jetstream::AckKind::Nak(None))
                .await
                .unwrap();
            ended += 1;
        }
    }
    let since = sys.tg.calls().len();
    sys.start_fn("fn-reply").await.unwrap();
    let sorry = companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry);
    chat.expect_message(since, |c| text_of(c) == sorry).await;
    let pool = sys.pool().await.unwrap();
    let error: String =
        sqlx::query_scalar("SELECT error FROM dead_letters WHERE stage = 'fn-reply'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(error.contains("without finishing"), "{error}");
    let asked: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE content LIKE 'I love hearing that: \"this one ends%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(asked, 0, "never handled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_thousand_character_answer_full_of_emoji_is_delivered_whole() {
    let sys = System::start("emoji-answer", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7105);
    chat.open_dialog().await;
    // 4,000 characters, 5,500 UTF-16 units: over Telegram's limit as Telegram counts it.
    let content: String = (0..1000)
        .map(|i| if i % 2 == 0 { "ok😊 " } else { "go🌙 " })
        .collect::<String>()
        .trim_end()
        .to_owned()
        + "!";
    assert!(content.chars().count() <= 4096 && content.encode_utf16().count() > 4096);
    sys.llm.push(vec![standins::script::Step {
        content: Some(content.clone()),
        ..Default::default()
    }]);
    let since = sys.tg.calls().len();
    chat.say("tell me everything").await;
    chat.expect_message(since, |c| text_of(c).ends_with('!'))
        .await;
    settle(&sys).await;
    let sorry = companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry);
    assert_eq!(chat.count_text(sorry), 0, "no sorry");
    // The parts as the user last sees them (the final text of each message) make the answer.
    let mut shown: std::collections::BTreeMap<i64, String> = Default::default();
    for c in sys.tg.calls().iter().skip(since) {
        if c.params["chat_id"] != 7105 || c.result.is_null() {
            continue;
        }
        if let (Some(id), Some(text)) = (c.result["message_id"].as_i64(), c.params["text"].as_str())
        {
            shown.insert(id, text.to_owned());
        }
    }
    let words: Vec<&str> = shown.values().flat_map(|t| t.split_whitespace()).collect();
    let want: Vec<&str> = content.split_whitespace().collect();
    assert!(
        words.ends_with(&want),
        "the answer is not shown whole: {} parts",
        shown.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chats_update_no_copy_can_handle_is_given_up_and_the_chat_goes_on() {
    let sys = System::start("order-give-up", &[("ORDER_GIVE_UP_SECS", "10")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 7106);
    chat.open_dialog().await;
    // An update written by a build no running copy is (a rollback): every copy gives it back.
    let stuck = standins::updates::text(sys.tg.next_update_id(), 90, &chat.user, "from the future");
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(runtime::envelope::SCHEMA_HEADER, "999");
    let js = sys.js().await.unwrap();
    js.publish_with_headers(
        runtime::nats::topology::update_subject(chat.user.id),
        headers,
        serde_json::to_vec(&stuck).unwrap().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let since = sys.tg.calls().len();
    let asked = Instant::now();
    chat.say("and now?").await;
    chat.expect_message(since, |c| text_of(c) == answer_for("and now?"))
        .await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(25),
        "the chat waited {waited:?} behind an update no copy can handle"
    );
    let sorry = companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry);
    chat.expect_message(since, |c| text_of(c) == sorry).await;
    let pool = sys.pool().await.unwrap();
    let error: String =
        sqlx::query_scalar("SELECT error FROM dead_letters WHERE stage = 'fn-updates'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(error.contains("ORDER_GIVE_UP_SECS"), "{error}");
    settle(&sys).await;
    assert_eq!(
        chat.count_text(&answer_for("from the future")),
        0,
        "never handled"
    );
}
