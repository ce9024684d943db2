//! Telegram failing the way it does: down for a minute and a half (the answer written
//! meanwhile arrives once when it is back, no "Sorry"), a 429 on a call that is not paced
//! (it pauses nothing else), slow chat actions (they never hold up answers); and the rolling
//! summary's outbox rows are marked published like every other job's.

use std::time::{Duration, Instant};

use companion::locale::{Lang, T, t};
use runtime::envelope::SendJob;
use standins::llm::answer_for;
use standins::system::{System, text_of};
use standins::telegram::Failure;

use crate::helpers::{Chat, send_job, settle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_and_a_half_of_telegram_502_delays_the_answer_and_loses_nothing() {
    let sys = System::start("tg-outage", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7201);
    chat.open_dialog().await;
    let since = sys.tg.calls().len();
    sys.tg.outage(Duration::from_secs(90));
    chat.say("are you still there?").await;
    let want = answer_for("are you still there?");
    tokio::time::sleep(Duration::from_secs(90)).await;
    let back = Instant::now();
    let answer = sys
        .wait_call(since, Duration::from_secs(60), |c| {
            text_of(c) == want && !c.result.is_null()
        })
        .await
        .expect("the answer arrives once Telegram is back");
    eprintln!("answered {:?} after Telegram came back", back.elapsed());
    assert_eq!(answer.params["chat_id"], 7201);
    settle(&sys).await;
    assert_eq!(chat.count_text(&want), 1, "the answer shown once");
    assert_eq!(chat.count_text(t(Lang::En, T::Sorry)), 0, "no sorry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_a_callback_answer_pauses_no_one_else() {
    let sys = System::start("tg-429-callback", &[]).await.unwrap();
    let (presser, other) = (Chat::new(&sys, 7202), Chat::new(&sys, 7203));
    presser.open_dialog().await;
    other.open_dialog().await;
    let since = sys.tg.calls().len();
    presser.say("/persona").await;
    let menu = presser
        .expect_message(since, |c| {
            standins::system::buttons_of(c)
                .iter()
                .any(|b| b.starts_with("persona:"))
        })
        .await;
    let first = standins::system::buttons_of(&menu)
        .into_iter()
        .next()
        .unwrap();
    // The presser's chat has caught up with its pace (the menu went out a while ago): a 429
    // there now looks, to a sender that reads every 429 as a paced send's, like a flood wait
    // of the whole bot.
    tokio::time::sleep(Duration::from_secs(8)).await;
    sys.tg.fail_next(Failure {
        method: "answercallbackquery".into(),
        error_code: 429,
        description: "Too Many Requests: retry after 40".into(),
        retry_after: Some(40),
        after: 0,
    });
    presser.press(&menu, &first).await;
    sys.wait_call(since, Duration::from_secs(20), |c| {
        c.method == "answercallbackquery" && c.result.is_null()
    })
    .await
    .expect("the callback answer got its 429");
    let asked = Instant::now();
    other.turn("anyone home?").await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(15),
        "another user's answer waited {waited:?} behind a callback answer's 429"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_chat_actions_never_hold_up_answers() {
    let sys = System::start("slow-actions", &[]).await.unwrap();
    let (busy, other) = (Chat::new(&sys, 7204), Chat::new(&sys, 7205));
    busy.open_dialog().await;
    other.open_dialog().await;
    sys.tg
        .slow_method("sendchataction", Some(Duration::from_secs(10)));
    // More "typing…" jobs than fn-send has slots, for 300 chats, as many replies in flight
    // would publish them.
    for i in 0..300 {
        let chat_id = if i % 2 == 0 { busy.user.id } else { 8000 + i };
        let action = Some("typing".to_owned());
        send_job(
            &sys,
            SendJob {
                chat_id,
                action,
                ..Default::default()
            },
        )
        .await;
    }
    let asked = Instant::now();
    other.turn("hello through the crowd").await;
    let waited = asked.elapsed();
    assert!(
        waited < Duration::from_secs(8),
        "an answer waited {waited:?} behind slow chat actions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_summary_jobs_are_marked_published() {
    let sys = System::start("summary-outbox", &[("HISTORY_MESSAGES", "4")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 7206);
    chat.open_dialog().await;
    for i in 0..12 {
        chat.turn(&format!("turn number {i}")).await;
    }
    let pool = sys.pool().await.unwrap();
    let summaries = || {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM outbox
             WHERE subject = 'jobs.reply' AND convert_from(payload, 'UTF8')::jsonb
                   -> 'payload' ->> 'summarize' = 'true'",
        )
        .fetch_one(&pool)
    };
    standins::harness::wait_for("a summary job to run", Duration::from_secs(30), || async {
        let (all, open) = summaries().await.ok()?;
        (all > 0 && open == 0).then_some(())
    })
    .await
    .expect("every summary job's row marked published");
    settle(&sys).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_making_two_slow_calls_goes_out_once() {
    let sys = System::start("lease-overrun", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7207);
    chat.open_dialog().await;
    let content = "one two three four";
    let (since, draft) = chat.slow_answer("slowly please", content, 700).await;
    // The user deletes the draft, and Telegram turns slow: the final text's edit takes 9 s to
    // be refused, then its sending anew takes 9 s more — two calls, each within the timeout,
    // together longer than a lease of one call.
    sys.tg
        .delete_message(chat.user.id, draft.result["message_id"].as_i64().unwrap());
    for method in ["editmessagetext", "sendmessage"] {
        sys.tg.slow_method(method, Some(Duration::from_secs(9)));
    }
    chat.expect_message(since, |c| text_of(c) == content).await;
    // Long enough for a second owner (the sweeper re-queues an expired lease) to send it too.
    tokio::time::sleep(Duration::from_secs(25)).await;
    for method in ["editmessagetext", "sendmessage"] {
        sys.tg.slow_method(method, None);
    }
    settle(&sys).await;
    assert_eq!(chat.count_text(content), 1, "one message, never two");
}
