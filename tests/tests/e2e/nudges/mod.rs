//! Nudges: a persona the user allowed writes first once they have been silent for
//! `NUDGE_SILENCE_SECS` (a few seconds here), through a real nats-server message schedule —
//! re-armed by each of their messages, so none fires while they talk; once, and not again
//! (a redelivered or re-fired job writes nothing new); not in their quiet hours (moved to
//! the hours' end, in `later`); not after they turn it off; not to a user Telegram no
//! longer reaches; a killed fn-reply sends it once (`later`); not when the user opts out or
//! writes while the model writes it, and no schedule is left after `/delete_my_data`
//! (`race`).

use std::time::Duration;

use runtime::envelope::Envelope;
use runtime::nats::topology::REPLY_SUBJECT;
use standins::script::Step;
use standins::system::{System, buttons_of, text_of};

use crate::helpers::{Chat, STEP, delivered, settle};

mod later;
mod race;

/// The silence before a nudge in these tests.
pub(super) const SILENCE_WAIT: Duration = Duration::from_secs(3);

pub(super) async fn start(label: &str, silence: Duration) -> System {
    let secs = silence.as_secs().to_string();
    System::start(label, &[("NUDGE_SILENCE_SECS", &secs)])
        .await
        .unwrap()
}

/// The persona of the user's open dialog.
pub(super) async fn girl_of(sys: &System, user: i64) -> i32 {
    let pool = sys.pool().await.unwrap();
    sqlx::query_scalar("SELECT girl_id FROM dialogs WHERE user_id = $1 LIMIT 1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap()
}

/// Opens a dialog with no quiet hours and lets the persona write first; returns her id.
pub(super) async fn allow(chat: &Chat<'_>) -> i32 {
    let greeting = chat.open_dialog().await;
    let since = chat.sys.tg.calls().len();
    chat.press(&greeting, "quiet:0:0").await;
    chat.expect_message(since, |c| text_of(c).contains("Quiet hours"))
        .await;
    let girl = girl_of(chat.sys, chat.user.id).await;
    let since = chat.sys.tg.calls().len();
    chat.press(&greeting, &format!("snudge:{girl}:1")).await;
    chat.expect_message(since, |c| text_of(c).contains("may text you first: on"))
        .await;
    girl
}

/// Nudges stored for `user`.
pub(super) async fn nudges_of(sys: &System, user: i64) -> i64 {
    let pool = sys.pool().await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM nudges WHERE user_id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nudge_fires_once_after_the_silence_and_never_while_the_user_talks() {
    // Long enough for a turn and a pause on a busy machine, shorter than all the turns.
    let silence = Duration::from_secs(8);
    let sys = start("nudges_once", silence).await;
    let chat = Chat::new(&sys, 9101);
    allow(&chat).await;
    // Talking re-arms the one schedule: none fires while turns come faster than the silence.
    let talking = std::time::Instant::now();
    for i in 0..4 {
        chat.turn(&format!("I adopted a cat named Miso ({i})"))
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(
        talking.elapsed() > silence,
        "talked for longer than the silence"
    );
    assert_eq!(nudges_of(&sys, chat.user.id).await, 0, "none while talking");
    let nudge = "Thinking of you. How is Miso settling in?";
    sys.llm.push(vec![Step {
        content: Some(nudge.to_owned()),
        ..Default::default()
    }]);
    let sent = chat.expect_message(0, |c| text_of(c) == nudge).await;
    assert!(buttons_of(&sent).is_empty());
    // The model wrote it from the dialog, in her voice.
    let asked = sys.llm.requests().last().cloned().unwrap();
    let prompt = asked["messages"].to_string();
    assert!(
        prompt.contains("You are Stacy") && prompt.contains("Miso"),
        "{prompt}"
    );
    let pool = sys.pool().await.unwrap();
    let (bulk, stored): (bool, String) = sqlx::query_as(
        "SELECT e.bulk, m.content FROM nudges n JOIN chat_messages m ON m.id = n.message_id
         JOIN effects e ON e.id = m.effect_id WHERE n.user_id = $1",
    )
    .bind(chat.user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(bulk, "a nudge is a bulk send");
    assert_eq!(stored, nudge, "stored as her message in the dialog");

    // The same fired job again (a redelivery, a schedule fired twice): nothing new.
    let (dialog_id, last): (i64, i64) = sqlx::query_as(
        "SELECT d.id, max(m.id) FROM dialogs d JOIN chat_messages m ON m.dialog_id = d.id
         WHERE d.user_id = $1 AND m.role = 'user' GROUP BY d.id",
    )
    .bind(chat.user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let job = companion::jobs::ReplyJob {
        chat_id: chat.user.id,
        user_id: chat.user.id,
        dialog_id,
        user_message_id: last,
        nudge: true,
        ..Default::default()
    };
    let asked_before = sys.llm.requests().len();
    let js = sys.js().await.unwrap();
    let payload = serde_json::to_vec(&Envelope::new("test", job)).unwrap();
    js.publish(REPLY_SUBJECT, payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
    tokio::time::sleep(SILENCE_WAIT * 2).await;
    settle(&sys).await;
    assert_eq!(chat.count_text(nudge), 1, "sent once");
    assert_eq!(nudges_of(&sys, chat.user.id).await, 1);
    assert_eq!(sys.llm.requests().len(), asked_before, "no second LLM call");

    // Answering it re-arms: the next silence brings the next nudge.
    chat.turn("Miso is great, she sleeps all day").await;
    let next = "Did Miso wake up yet?";
    sys.llm.push(vec![Step {
        content: Some(next.to_owned()),
        ..Default::default()
    }]);
    chat.expect_message(0, |c| text_of(c) == next).await;
    assert_eq!(nudges_of(&sys, chat.user.id).await, 2);

    // The admin panel counts them.
    let text = fn_admin::nudges::figures(&pool).await.unwrap();
    assert!(
        text.contains("Sent: 2 / 2 (7 days / all time) · answered within 24 h: 50%"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_nudge_after_opting_out_nor_to_a_user_who_blocked_the_bot() {
    // Longer, so the steps before the silence ends fit in it on a busy machine.
    let silence = Duration::from_secs(8);
    let sys = start("nudges_off", silence).await;
    // Asked once, after the fifth answer; allowed, then turned off again: the pending
    // schedule fires and writes nothing.
    let off = Chat::new(&sys, 9103);
    off.open_dialog().await;
    for i in 1..5 {
        off.turn(&format!("Message {i}")).await;
    }
    let since = sys.tg.calls().len();
    off.turn("Message 5").await;
    let offer = off
        .expect_message(since, |c| text_of(c).starts_with("May Stacy text you"))
        .await;
    let girl = girl_of(&sys, off.user.id).await;
    let yes = format!("nudge:{girl}:1");
    assert_eq!(buttons_of(&offer), [yes.clone(), format!("nudge:{girl}:0")]);
    let since = sys.tg.calls().len();
    off.press(&offer, &yes).await;
    off.expect_message(since, |c| text_of(c).contains("may text you when"))
        .await;
    off.turn("Message 6").await;
    settle(&sys).await;
    let asked = sys
        .tg
        .calls()
        .iter()
        .filter(|c| text_of(c).starts_with("May Stacy"))
        .count();
    assert_eq!(asked, 1, "asked once");
    // The last message before turning it off: its schedule fires after that, and stops there.
    let said = off.turn("See you").await;
    let since = sys.tg.calls().len();
    off.press(&said, &format!("nudge:{girl}:0")).await;
    off.expect_message(since, |c| text_of(c).contains("won't text you first"))
        .await;
    // Blocked: the nudge is refused by Telegram, the user marked unreachable, and a nudge
    // firing after that is not written.
    let blocked = Chat::new(&sys, 9104);
    allow(&blocked).await;
    blocked.turn("Bye for now").await;
    sys.tg.block(blocked.user.id, true);
    let pool = sys.pool().await.unwrap();
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let unreachable: bool =
            sqlx::query_scalar("SELECT unreachable_at IS NOT NULL FROM users WHERE id = $1")
                .bind(blocked.user.id)
                .fetch_one(&pool)
                .await
                .unwrap();
        if unreachable {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "a 403 marks the user");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let asked = sys.llm.requests().len();
    let job = crate::helpers::reply_job_for(&blocked, "(stored later)", "test").await;
    let mut job = job;
    job.payload.nudge = true;
    let js = sys.js().await.unwrap();
    let payload = serde_json::to_vec(&job).unwrap();
    js.publish(REPLY_SUBJECT, payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
    tokio::time::sleep(silence).await;
    settle(&sys).await;
    assert_eq!(
        sys.llm.requests().len(),
        asked,
        "no nudge written for a blocked user"
    );
    assert_eq!(
        nudges_of(&sys, off.user.id).await,
        0,
        "none after opting out"
    );
    let to_blocked = sys
        .tg
        .calls()
        .iter()
        .filter(|c| c.params["chat_id"] == blocked.user.id && delivered(c))
        .count();
    assert!(to_blocked > 0);
    assert_eq!(
        nudges_of(&sys, blocked.user.id).await,
        1,
        "the one refused by Telegram"
    );
}
