//! The admin panel's operational side through the real functions: a dead letter shown in
//! Health goes back to its stage with its retry button (here an update fn-updates never
//! handled: the user gets their answer), a long table is paged with ◀ ▶, a stopped stage
//! shows its queue and its oldest job's wait, Personas counts dialogs and messages, and a
//! send job's dead letter retried makes its failed message pending again and sends it.

use runtime::nats::topology::update_subject;
use standins::system::{System, buttons_of, text_of};
use standins::updates::{self, User};

use crate::helpers::{Chat, STEP};

const ADMIN: i64 = 9001;

/// Stores `payload` as a dead letter of `stage` ("database unreachable"); returns its id.
async fn dead_letter(
    pool: &sqlx::PgPool,
    stage: &str,
    subject: &str,
    payload: &impl serde::Serialize,
    chat: i64,
) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO dead_letters (stage, subject, payload, error, delivered, chat_id)
         VALUES ($1, $2, $3, 'database unreachable', 6, $4) RETURNING id",
    )
    .bind(stage)
    .bind(subject)
    .bind(serde_json::to_vec(payload).unwrap())
    .bind(chat)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_retried_and_long_tables_paged() {
    let sys = System::start("admin-ops", &[("ADMIN_USER_IDS", "9001")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();

    // 45 users with messages: the top-users table takes three pages of twenty.
    for i in 0..45i64 {
        let id = 5000 + i;
        sqlx::query("INSERT INTO users (id, first_name) VALUES ($1, 'seed')")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO user_retention (user_id, total_messages) VALUES ($1, $2)")
            .bind(id)
            .bind(1000 - i as i32)
            .execute(&pool)
            .await
            .unwrap();
    }
    // An update that was dead-lettered before fn-updates could handle it.
    let user = User::new(7301, "Ann");
    let lost = updates::text(sys.tg.next_update_id(), 1, &user, "/help");
    let dead = dead_letter(
        &pool,
        "fn-updates",
        &update_subject(user.id),
        &lost,
        user.id,
    )
    .await;

    let admin = Chat::new(&sys, ADMIN);
    let panel = admin
        .ask("/admin", |c| text_of(c).starts_with("📊 Overview"))
        .await;

    // Users: page 1 of 3, then page 2 in place.
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:users").await;
    let first = admin
        .expect_call(since, |c| text_of(c).starts_with("👤 Top users"))
        .await;
    assert!(text_of(&first).contains("1. 5000 seed: 1000 messages"));
    assert!(
        text_of(&first).ends_with("Page 1 of 3"),
        "{}",
        text_of(&first)
    );
    assert!(!text_of(&first).contains("21. "));
    assert!(buttons_of(&first).contains(&"admp:users:1".to_owned()));
    let since = sys.tg.calls().len();
    admin.press(&panel, "admp:users:1").await;
    let second = admin
        .expect_call(since, |c| text_of(c).ends_with("Page 2 of 3"))
        .await;
    assert_eq!(second.method, "editmessagetext");
    assert!(text_of(&second).contains("21. 5020 seed: 980 messages"));
    assert!(!text_of(&second).contains("41. "));

    // Health lists the dead letter with its reason and a retry button.
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:health").await;
    let health = admin
        .expect_call(since, |c| text_of(c).starts_with("🩺"))
        .await;
    assert!(
        text_of(&health).contains(&format!("#{dead} "))
            && text_of(&health).contains("database unreachable"),
        "{}",
        text_of(&health)
    );
    assert!(text_of(&health).contains("fn-updates: 0 · 0 · 0 · –"));
    let retry = format!("admr:{dead}");
    assert!(buttons_of(&health).contains(&retry));

    // Retried: fn-updates handles the update at last, the row says when.
    let since = sys.tg.calls().len();
    admin.press(&panel, &retry).await;
    let answer = sys
        .wait_call(since, STEP, |c| {
            c.params["chat_id"] == user.id && text_of(c).contains("/delete_my_data")
        })
        .await
        .expect("the retried update is answered");
    assert_eq!(answer.method, "sendmessage");
    let said = admin
        .expect_call(since, |c| c.method == "answercallbackquery")
        .await;
    assert_eq!(
        said.params["text"],
        format!("Dead letter #{dead} sent back to fn-updates")
    );
    admin
        .expect_call(since, |c| text_of(c).contains("(retried "))
        .await;
    // A replay of the same press is a new request: the update is claimed, nothing is said twice.
    admin.press(&panel, &retry).await;
    crate::helpers::settle(&sys).await;
    let helps = sys.tg.calls()[since..]
        .iter()
        .filter(|c| c.params["chat_id"] == user.id && text_of(c).contains("/delete_my_data"))
        .count();
    assert_eq!(helps, 1);

    // A stage that is down: its queue, and how long the oldest job has waited.
    sys.stop_copy("fn-reply");
    let chat = Chat::new(&sys, 7302);
    chat.open_dialog().await;
    chat.say("anyone there?").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let since = sys.tg.calls().len();
    admin.press(&panel, "adm:health").await;
    let waiting = admin
        .expect_call(since, |c| text_of(c).starts_with("🩺"))
        .await;
    let line = text_of(&waiting)
        .lines()
        .find(|l| l.starts_with("fn-reply:"))
        .unwrap()
        .to_owned();
    let waited: u64 = line
        .rsplit(" · ")
        .next()
        .and_then(|a| a.strip_suffix('s'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an age in seconds: {line}"));
    assert!(
        line.starts_with("fn-reply: 1 · 0 · 0 · ") && waited >= 2,
        "{line}"
    );
    sys.start_fn("fn-reply").await.unwrap();
    chat.expect_message(since, |c| {
        text_of(c) == standins::llm::answer_for("anyone there?")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_jobs_dead_letter_retried_sends_its_message() {
    let sys = System::start("admin-retry-send", &[("ADMIN_USER_IDS", "9001")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let chat = Chat::new(&sys, 7303);
    chat.open_dialog().await;
    // A send job fn-send gave up on: its message failed with it.
    let effect = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO effects (id, chat_id, method, params, visible, state, error, done_at)
         VALUES ($1, $2, 'sendMessage', $3, true, 'failed', 'send job given up', now())",
    )
    .bind(effect)
    .bind(chat.user.id)
    .bind(serde_json::json!({"chat_id": chat.user.id, "text": "the answer that got lost"}))
    .execute(&pool)
    .await
    .unwrap();
    let job = runtime::envelope::Envelope::new(
        "lost-send",
        runtime::envelope::SendJob {
            chat_id: chat.user.id,
            effects: vec![effect],
            ..Default::default()
        },
    );
    let dead = dead_letter(&pool, "fn-send", "jobs.send", &job, chat.user.id).await;
    let admin = Chat::new(&sys, ADMIN);
    let panel = admin
        .ask("/admin", |c| text_of(c).starts_with("📊 Overview"))
        .await;
    let since = sys.tg.calls().len();
    admin.press(&panel, &format!("admr:{dead}")).await;
    chat.expect_message(since, |c| text_of(c) == "the answer that got lost")
        .await;
    let said = admin
        .expect_call(since, |c| c.method == "answercallbackquery")
        .await;
    assert_eq!(
        said.params["text"],
        format!("Dead letter #{dead} sent back to fn-send: 1 message(s) queued again")
    );
}
