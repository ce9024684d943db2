//! One fair budget for every kind of update: a user flooding the bot — a thousand odd updates
//! as fast as the webhook takes them, or `/persona` over and over — is slowed to their budget
//! (one note, then silence), and everyone else is answered as promptly as without them.

use std::time::{Duration, Instant};

use serde_json::Value;
use standins::system::{System, buttons_of, text_of};
use standins::updates::{self, User};

use crate::helpers::{Chat, settle_within};

/// Posts `updates` through the webhook from `lanes` concurrent senders, as fast as it takes them.
async fn flood(sys: &System, updates: Vec<Value>, lanes: usize) {
    let chunks: Vec<Vec<Value>> = updates
        .chunks(updates.len().div_ceil(lanes))
        .map(<[Value]>::to_vec)
        .collect();
    let posts = chunks.into_iter().map(|chunk| async move {
        for u in chunk {
            assert_eq!(
                sys.post_update(&u).await,
                200,
                "the webhook takes every update"
            );
        }
    });
    futures::future::join_all(posts).await;
}

/// How long another user's turns take, one after the other.
async fn turns(chat: &Chat<'_>, label: &str, n: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        chat.turn(&format!("{label} {i}")).await;
        times.push(started.elapsed());
    }
    times
}

/// Waits for the flood to be worked through, every stage idle: longer than a conversation
/// step, as a chat's sends are paced at about one a second.
async fn drained(sys: &System, since: Instant) {
    settle_within(sys, Duration::from_secs(240)).await;
    println!("the flood was worked through in {:?}", since.elapsed());
}

/// The system at the real budget (the harness's default is all but unlimited).
async fn budgeted(label: &str) -> System {
    System::start(label, &[("MESSAGES_PER_MINUTE", "20")])
        .await
        .unwrap()
}

/// A flooder and another user, each in a dialog.
async fn two_users(sys: &System, flooder: i64, other: i64) -> (Chat<'_>, Chat<'_>) {
    let (flooder, other) = (Chat::new(sys, flooder), Chat::new(sys, other));
    flooder.open_dialog().await;
    other.open_dialog().await;
    (flooder, other)
}

fn worst(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

/// A thousand odd updates of one user: texts (some with NUL or oversized), edits, button
/// presses of every kind, commands.
fn odd_updates(sys: &System, user: &User) -> Vec<Value> {
    let big = "x".repeat(5000);
    (0..1000)
        .map(|i| {
            let id = sys.tg.next_update_id();
            match i % 8 {
                0 => updates::text(id, 1000 + i, user, &format!("zqflood {i}")),
                1 => updates::text(id, 1000 + i, user, "a\u{0}b"),
                2 => updates::text(id, 1000 + i, user, &big),
                3 => updates::edited(id, 1000 + i - 3, user, &format!("zqflood edited {i}")),
                4 => updates::callback(id, user, 1, "re:1"),
                5 => updates::callback(id, user, 1, "chats:0"),
                6 => updates::text(id, 1000 + i, user, "/persona"),
                _ => updates::text(id, 1000 + i, user, "/photo"),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_flood_is_held_to_their_budget_while_others_are_answered_promptly() {
    let sys = budgeted("flood").await;
    let (flooder, other) = two_users(&sys, 7701, 7702).await;
    let quiet = turns(&other, "quiet", 3).await;

    let asked = sys.llm.requests().len();
    let since = sys.tg.calls().len();
    let burst = odd_updates(&sys, &flooder.user);
    let flood_started = Instant::now();
    let flooding = flood(&sys, burst, 8);
    let (_, busy) = tokio::join!(flooding, turns(&other, "busy", 3));
    // And a newcomer's /start while the flood is still being worked through.
    let newcomer = Chat::new(&sys, 7703);
    let started = Instant::now();
    newcomer
        .ask("/start", |c| buttons_of(c).contains(&"age:yes".to_owned()))
        .await;
    let start = started.elapsed();
    println!(
        "other user's turns: {:?} quiet, {:?} during the flood; a newcomer's /start {start:?}",
        quiet, busy
    );
    drained(&sys, flood_started).await;
    assert!(
        worst(&busy) < Duration::from_secs(15) && start < Duration::from_secs(15),
        "others are answered promptly"
    );
    let llm_from_flood = sys.llm.requests()[asked..]
        .iter()
        .filter(|r| r.to_string().contains("zqflood"))
        .count();
    println!("answers written for the flood: {llm_from_flood}");
    assert!(
        llm_from_flood <= 25,
        "the flood is held to the budget: {llm_from_flood} answers written"
    );
    let to_flooder = sys.tg.calls()[since..]
        .iter()
        .filter(|c| c.params["chat_id"] == flooder.user.id)
        .count();
    assert!(to_flooder <= 120, "{to_flooder} calls to the flooding chat");
    let notes = sys.tg.calls()[since..]
        .iter()
        .filter(|c| {
            c.params["chat_id"] == flooder.user.id
                && text_of(c).starts_with("You're writing faster")
        })
        .count();
    assert!((1..=3).contains(&notes), "{notes} slow-down notes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persona_flood_from_one_chat_leaves_other_answers_prompt() {
    let sys = budgeted("persona-flood").await;
    let (flooder, other) = two_users(&sys, 7711, 7712).await;
    let quiet = turns(&other, "quiet", 2).await;
    let since = sys.tg.calls().len();
    let menus: Vec<Value> = (0..200)
        .map(|i| updates::text(sys.tg.next_update_id(), 500 + i, &flooder.user, "/persona"))
        .collect();
    let flood_started = Instant::now();
    let (_, busy) = tokio::join!(flood(&sys, menus, 4), turns(&other, "busy", 3));
    println!("other user's turns: {quiet:?} quiet, {busy:?} during 200 /persona");
    drained(&sys, flood_started).await;
    assert!(
        worst(&busy) < Duration::from_secs(15),
        "others are answered promptly"
    );
    let menus_sent = sys.tg.calls()[since..]
        .iter()
        .filter(|c| {
            c.params["chat_id"] == flooder.user.id
                && buttons_of(c).iter().any(|b| b.starts_with("persona:"))
        })
        .count();
    // A menu is a message per persona; the budget allows about ten menus a minute.
    assert!(menus_sent <= 12 * 6, "{menus_sent} persona messages");
}
