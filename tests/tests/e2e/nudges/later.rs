//! Nudges and time: one due in the user's quiet hours is moved to their end (and `/settings`
//! sets the zone they are read in); a fn-reply killed while writing one sends it once.

use std::time::Duration;

use runtime::nats::topology::{JOBS_STREAM, schedule_subject};
use standins::script::Step;
use standins::system::{buttons_of, text_of};

use super::{SILENCE_WAIT, allow, nudges_of, start};
use crate::helpers::{Chat, STEP, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nudge_due_in_quiet_hours_is_moved_to_their_end() {
    let sys = start("nudges_quiet", SILENCE_WAIT).await;
    let chat = Chat::new(&sys, 9102);
    allow(&chat).await;
    // /settings: the zone guessed from the language until set; set with the buttons.
    let view = chat
        .ask("/settings", |c| text_of(c).starts_with("⚙️ Settings"))
        .await;
    assert!(
        text_of(&view).contains("Time zone: UTC (guessed"),
        "{}",
        text_of(&view)
    );
    assert!(text_of(&view).contains("Quiet hours (nobody texts you first): none"));
    assert!(buttons_of(&view).contains(&"tz:60".to_owned()));
    let since = sys.tg.calls().len();
    chat.press(&view, "tz:60").await;
    chat.expect_message(since, |c| text_of(c).contains("Time zone: UTC+1\n"))
        .await;
    // Quiet hours around now, in UTC.
    let hour = chrono::Utc::now()
        .format("%H")
        .to_string()
        .parse::<i16>()
        .unwrap();
    let (from, to) = (hour, (hour + 2) % 24);
    let pool = sys.pool().await.unwrap();
    sqlx::query("UPDATE users SET tz_offset_min = 0, quiet_from = $2, quiet_to = $3 WHERE id = $1")
        .bind(chat.user.id)
        .bind(from)
        .bind(to)
        .execute(&pool)
        .await
        .unwrap();
    chat.turn("Good night").await;
    let asked = sys.llm.requests().len();
    tokio::time::sleep(SILENCE_WAIT * 3).await;
    settle(&sys).await;
    assert_eq!(nudges_of(&sys, chat.user.id).await, 0, "not in quiet hours");
    assert_eq!(sys.llm.requests().len(), asked, "not even written");
    // Scheduled again, for the quiet hours' end.
    let js = sys.js().await.unwrap();
    let stream = js.get_stream(JOBS_STREAM).await.unwrap();
    let subject = schedule_subject(&companion::nudges::schedule_key(chat.user.id));
    let pending = stream
        .get_last_raw_message_by_subject(&subject)
        .await
        .expect("a pending schedule");
    let at = pending
        .headers
        .get("Nats-Schedule")
        .map(|v| v.to_string())
        .unwrap_or_default();
    assert!(
        at.starts_with("@at ") && at.contains(&format!("T{to:02}:00:00Z")),
        "{at}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fn_reply_killed_while_writing_a_nudge_sends_it_once() {
    let sys = start("nudges_crash", Duration::from_secs(6)).await;
    let chat = Chat::new(&sys, 9105);
    allow(&chat).await;
    chat.turn("The concert was amazing").await;
    // Scripted after the turn, whose own answer would take the first step.
    let nudge = "Are you still thinking about the concert?";
    sys.llm.push(vec![
        Step {
            delay_ms: 5_000,
            content: Some(nudge.to_owned()),
            ..Default::default()
        },
        Step {
            content: Some(nudge.to_owned()),
            ..Default::default()
        },
    ]);
    let asked = sys.llm.requests().len();
    let llm = sys.llm.clone();
    standins::harness::wait_for("the LLM to be asked for the nudge", STEP, || {
        let n = llm.requests().len();
        async move { (n > asked).then_some(()) }
    })
    .await
    .unwrap();
    sys.with_process("fn-reply", |p| p.kill9());
    sys.start_fn("fn-reply").await.unwrap();
    chat.expect_message(0, |c| text_of(c) == nudge).await;
    tokio::time::sleep(SILENCE_WAIT * 2).await;
    settle(&sys).await;
    assert_eq!(chat.count_text(nudge), 1, "sent once");
    assert_eq!(nudges_of(&sys, chat.user.id).await, 1);
}
