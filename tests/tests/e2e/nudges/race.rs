//! Nudges and what happens while one is written: the model is slow, and meanwhile the user
//! turns nudges off, or writes again — the statement that stores the nudge checks every rule
//! again, so nothing is sent. And `/delete_my_data` leaves no pending schedule in the jobs
//! stream (it names the user's chat and dialogs).

use std::time::Duration;

use runtime::nats::topology::{JOBS_STREAM, schedule_subject};
use standins::script::Step;
use standins::system::{System, buttons_of, text_of};

use super::{allow, nudges_of, start};
use crate::helpers::{Chat, STEP, settle};

/// How long the model takes over the nudge.
const SLOW: Duration = Duration::from_secs(6);

/// Scripts the next LLM answer as a slow nudge and waits until the model is asked for it.
async fn slow_nudge(sys: &System, text: &str) {
    let asked = sys.llm.requests().len();
    sys.llm.push(vec![Step {
        delay_ms: SLOW.as_millis() as u64,
        content: Some(text.to_owned()),
        ..Default::default()
    }]);
    let llm = sys.llm.clone();
    standins::harness::wait_for("the LLM to be asked for the nudge", STEP, || {
        let n = llm.requests().len();
        async move { (n > asked).then_some(()) }
    })
    .await
    .unwrap();
}

/// Nudges stored for `user` with text `text`.
async fn stored(sys: &System, user: i64, text: &str) -> i64 {
    let pool = sys.pool().await.unwrap();
    sqlx::query_scalar(
        "SELECT count(*) FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
         WHERE d.user_id = $1 AND m.content = $2",
    )
    .bind(user)
    .bind(text)
    .fetch_one(&pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nudge_is_not_sent_when_the_user_opts_out_or_writes_while_it_is_written() {
    let sys = start("nudges_race", Duration::from_secs(4)).await;
    // Turned off while the model writes it.
    let off = Chat::new(&sys, 9106);
    let girl = allow(&off).await;
    let said = off.turn("I went hiking today").await;
    let nudge = "How were your legs after the hike?";
    slow_nudge(&sys, nudge).await;
    let since = sys.tg.calls().len();
    off.press(&said, &format!("nudge:{girl}:0")).await;
    off.expect_message(since, |c| text_of(c).contains("won't text you first"))
        .await;
    tokio::time::sleep(SLOW).await;
    settle(&sys).await;
    assert_eq!(off.count_text(nudge), 0, "not sent after opting out");
    assert_eq!(stored(&sys, off.user.id, nudge).await, 0, "nor stored");
    assert_eq!(nudges_of(&sys, off.user.id).await, 0);

    // The user writes again while the model writes it.
    let back = Chat::new(&sys, 9107);
    allow(&back).await;
    back.turn("I baked bread").await;
    let nudge = "Did the bread rise well?";
    slow_nudge(&sys, nudge).await;
    back.turn("I'm back").await;
    tokio::time::sleep(SLOW).await;
    settle(&sys).await;
    assert_eq!(back.count_text(nudge), 0, "not sent after the user wrote");
    assert_eq!(stored(&sys, back.user.id, nudge).await, 0, "nor stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_the_user_removes_their_pending_nudge_schedule() {
    // Long: the schedule is still pending when the erasure is done.
    let sys = start("nudges_erase", Duration::from_secs(600)).await;
    let chat = Chat::new(&sys, 9108);
    allow(&chat).await;
    chat.turn("Remember my cat Miso").await;
    let js = sys.js().await.unwrap();
    let stream = js.get_stream(JOBS_STREAM).await.unwrap();
    let subject = schedule_subject(&companion::nudges::schedule_key(chat.user.id));
    let pending = stream.get_last_raw_message_by_subject(&subject).await;
    assert!(pending.is_ok(), "a pending schedule before the erasure");

    let ask = chat
        .ask("/delete_my_data", |c| {
            buttons_of(c).contains(&"me:erase".to_owned())
        })
        .await;
    let since = sys.tg.calls().len();
    chat.press(&ask, "me:erase").await;
    chat.expect_message(since, |c| text_of(c).starts_with("🗑 Done"))
        .await;
    let pool = sys.pool().await.unwrap();
    standins::harness::wait_for("the erasure to finish", STEP, || {
        let pool = pool.clone();
        async move {
            let done: Option<bool> =
                sqlx::query_scalar("SELECT bool_and(done_at IS NOT NULL) FROM erasures")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            (done == Some(true)).then_some(())
        }
    })
    .await
    .unwrap();
    let left = stream.get_last_raw_message_by_subject(&subject).await;
    assert!(
        left.is_err(),
        "no schedule left: {:?}",
        left.map(|m| m.subject)
    );
}
