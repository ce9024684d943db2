//! Exactly once under realistic trouble: an LLM slower than the ack wait with more users than
//! a copy's slots, a handler that panics, a crash between a commit and its publish, and an
//! update id Telegram reuses after the week it keeps them unique.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use companion::jobs::ReplyJob;
use companion::jobs::sorry;
use companion::locale::Lang;
use runtime::HandlerError;
use runtime::app::CommonSettings;
use runtime::config::Env;
use runtime::envelope::Envelope;
use runtime::nats::topology::{JOBS_STREAM, REPLY_SUBJECT, StageSpec};
use runtime::runner::Notice;
use runtime::runner::{Core, Stage, run_consumer};
use standins::harness::wait_for;
use standins::llm::answer_for;
use standins::system::{System, text_of};

use crate::helpers::{Chat, STEP, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_slower_than_the_ack_wait_answers_each_message_once_with_one_call() {
    // Ack wait 2 s, the LLM takes 3 s, 12 users and 4 slots per copy.
    let sys = System::start("slow-llm", &[("CONCURRENCY", "4")])
        .await
        .unwrap();
    let chats: Vec<Chat> = (0..12).map(|i| Chat::new(&sys, 7600 + i)).collect();
    futures::future::join_all(chats.iter().map(|c| c.open_dialog())).await;
    sys.llm.set_default_delay(3000);
    let since = sys.tg.calls().len();
    let texts: Vec<String> = chats
        .iter()
        .map(|c| format!("slow {}", c.user.id))
        .collect();
    futures::future::join_all(chats.iter().zip(&texts).map(|(c, t)| c.say(t))).await;
    for c in &chats {
        let text = answer_for(&format!("slow {}", c.user.id));
        c.expect_message(since, |m| text_of(m) == text).await;
    }
    settle(&sys).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for c in &chats {
        let asked = format!("slow {}", c.user.id);
        assert_eq!(
            c.count_text(&answer_for(&asked)),
            1,
            "{asked}: exactly one answer"
        );
        let calls = sys
            .llm
            .requests()
            .iter()
            .filter(|r| {
                r["messages"]
                    .as_array()
                    .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
                    .map(|m| m["content"] == asked.as_str())
                    == Some(true)
            })
            .count();
        assert_eq!(calls, 1, "{asked}: exactly one LLM call");
    }
}

struct Panicky {
    handled: Arc<AtomicUsize>,
}

impl Stage for Panicky {
    type Input = Envelope<ReplyJob>;
    const SPEC: StageSpec = StageSpec {
        name: "fn-panic-test",
        stream: JOBS_STREAM,
        subject: "jobs.panic-test",
    };
    const CONCURRENCY: usize = 4;

    fn failure_notice(env: Option<&Envelope<ReplyJob>>) -> Option<Notice> {
        sorry(env.map_or(Lang::En, |e| e.payload.lang), Vec::new())
    }

    async fn handle(&self, env: Envelope<ReplyJob>) -> Result<(), HandlerError> {
        if env.payload.user_message_id < 0 {
            panic!("handler bug on purpose");
        }
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_ends_in_a_dead_letter_and_a_polite_word_and_the_copy_keeps_serving() {
    let sys = System::start("panic", &[]).await.unwrap();
    let user = standins::updates::User::new(7401, "Di");
    sys.tg
        .saw_update(&standins::updates::text(1, 1, &user, "hi"));
    let (db, nats) = (sys.db.url.clone(), sys.nats.url.clone());
    let mut env = Env::from_fn(move |k| match k {
        "DATABASE_URL" => Some(db.clone()),
        "NATS_URL" => Some(nats.clone()),
        "ACK_WAIT_SECS" => Some("2".into()),
        _ => None,
    });
    let common = CommonSettings::read(&mut env);
    env.finish().unwrap();
    let deps = runtime::app::connect("fn-panic-test", &common, 4)
        .await
        .unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let stage = Panicky {
        handled: handled.clone(),
    };
    let core = Core::new(
        stage,
        deps.pool.clone(),
        deps.jobs.clone(),
        deps.outbox.clone(),
    );
    let js = deps.js.clone();
    let runner = tokio::spawn(async move { run_consumer(core, js, common.ack_wait, 4).await });
    let job = |m: i64| {
        Envelope::new(
            "panic-test",
            ReplyJob {
                chat_id: 7401,
                user_id: 7401,
                dialog_id: 1,
                user_message_id: m,
                ..Default::default()
            },
        )
    };
    let publish = |e: Envelope<ReplyJob>| {
        let js = deps.js.clone();
        async move {
            js.publish(
                Panicky::SPEC.subject,
                serde_json::to_vec(&e).unwrap().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        }
    };
    publish(job(-1)).await;
    publish(job(1)).await;
    wait_for("the good job", STEP, || {
        let n = handled.load(Ordering::SeqCst);
        async move { (n == 1).then_some(()) }
    })
    .await
    .unwrap();
    // Backoff 1 + 2 + 4 + 8 + 16 s between the six tries.
    let pool = deps.pool.clone();
    let (delivered, error): (i64, String) =
        wait_for("the dead letter", Duration::from_secs(60), || {
            let pool = pool.clone();
            async move {
                sqlx::query_as(
                    "SELECT delivered, error FROM dead_letters WHERE stage = 'fn-panic-test'",
                )
                .fetch_optional(&pool)
                .await
                .ok()?
            }
        })
        .await
        .unwrap();
    assert_eq!(delivered, runtime::nats::topology::MAX_DELIVER);
    assert!(error.contains("handler bug on purpose"), "{error}");
    let chat = Chat::new(&sys, 7401);
    chat.expect_message(0, |c| {
        text_of(c) == companion::locale::t(companion::locale::Lang::En, companion::locale::T::Sorry)
    })
    .await;
    publish(job(2)).await;
    wait_for("another good job", STEP, || {
        let n = handled.load(Ordering::SeqCst);
        async move { (n == 2).then_some(()) }
    })
    .await
    .unwrap();
    assert!(!runner.is_finished(), "the copy keeps serving");
    runner.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_publish_is_repaired_by_the_sweeper() {
    let sys = System::start("sweeper", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7501);
    chat.open_dialog().await;
    // What fn-updates had committed when it died before publishing: the message and its job.
    let pool = sys.pool().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let (dialog_id,): (i64,) = sqlx::query_as("SELECT id FROM dialogs WHERE user_id = 7501")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let update_id = sys.tg.next_update_id();
    let (message_id,): (i64,) = sqlx::query_as(
        "INSERT INTO chat_messages (dialog_id, role, content, update_id) VALUES ($1, 'user', 'lost in a crash?', $2) RETURNING id",
    ).bind(dialog_id).bind(update_id).fetch_one(&mut *tx).await.unwrap();
    let job = Envelope::new(
        format!("upd-{update_id}"),
        ReplyJob {
            chat_id: 7501,
            user_id: 7501,
            dialog_id,
            user_message_id: message_id,
            ..Default::default()
        },
    );
    sqlx::query("INSERT INTO outbox (job_id, update_id, source, subject, payload) VALUES ($1, $2, $3, $4, $5)")
        .bind(job.id).bind(update_id).bind(format!("upd-{update_id}")).bind(REPLY_SUBJECT)
        .bind(serde_json::to_vec(&job).unwrap()).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    chat.expect_message(0, |c| text_of(c) == answer_for("lost in a crash?"))
        .await;
    let published: bool =
        sqlx::query_scalar("SELECT published_at IS NOT NULL FROM outbox WHERE job_id = $1")
            .bind(job.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(published);
    settle(&sys).await;
    assert_eq!(chat.count_text(&answer_for("lost in a crash?")), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_id_reused_after_a_week_is_a_new_update() {
    let sys = System::start("recycled-id", &[]).await.unwrap();
    let pool = sys.pool().await.unwrap();
    let id = sys.tg.next_update_id();
    sqlx::query("INSERT INTO processed_updates (update_id, processed_at) VALUES ($1, now() - interval '8 days')")
        .bind(id).execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO processed_updates (update_id, processed_at) VALUES ($1, now() - interval '6 days')")
        .bind(id + 1_000_000).execute(&pool).await.unwrap();
    wait_for("the week-old claim to be pruned", STEP, || {
        let pool = pool.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar("SELECT count(*) FROM processed_updates WHERE update_id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .ok()?;
            (n == 0).then_some(())
        }
    })
    .await
    .unwrap();
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM processed_updates WHERE update_id = $1")
            .bind(id + 1_000_000)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kept, 1, "younger claims stay");
    let chat = Chat::new(&sys, 7502);
    let u = standins::updates::text(id, 1, &chat.user, "/start");
    assert_eq!(sys.post_update(&u).await, 200);
    chat.expect_message(0, |c| {
        text_of(c).contains(companion::locale::t(
            companion::locale::Lang::En,
            companion::locale::T::AgeGate,
        ))
    })
    .await;
}
