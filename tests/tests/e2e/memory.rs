//! Long-term memory through the real functions, with the LLM stand-in extracting facts from
//! the messages it is sent: the user tells Stacy their name and their dog's in one dialog, and
//! a new dialog's prompt carries both; a fact that makes someone a minor is never kept;
//! `/memory` lists the facts, 🗑 forgets one, "forget everything" the rest; `/export` writes
//! them; `/delete_my_data` erases them. Shared, another persona knows them too; deleting the
//! chat they were learned in forgets them.

use std::time::{Duration, Instant};

use standins::system::{System, buttons_of, text_of};

use crate::helpers::{Chat, STEP, settle};

const USER: i64 = 7_880_001;
const SHARER: i64 = 7_880_002;

/// The user's facts, `(key, fact)` by key, once at least `n` are stored.
async fn facts(pool: &sqlx::PgPool, n: usize) -> Vec<(String, String)> {
    facts_of(pool, USER, n).await
}

/// User `user`'s facts, `(key, fact)` by key, once at least `n` are stored.
async fn facts_of(pool: &sqlx::PgPool, user: i64, n: usize) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, fact FROM memory_facts WHERE user_id = $1 ORDER BY key")
                .bind(user)
                .fetch_all(pool)
                .await
                .unwrap();
        if rows.len() >= n || started.elapsed() > STEP {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The text of every message of the first LLM request whose last message is `said`.
fn prompt_for(sys: &System, said: &str) -> String {
    let request = sys
        .llm
        .requests()
        .into_iter()
        .find(|r| {
            let m = r["messages"].as_array().unwrap();
            m.iter()
                .any(|m| m["role"] == "user" && m["content"] == said)
        })
        .expect("the answer's request");
    let messages = request["messages"].as_array().unwrap();
    messages
        .iter()
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn she_remembers_across_dialogs_and_the_user_decides_what_she_keeps() {
    let sys = System::start("memory", &[("MEMORY_EVERY", "3")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let chat = Chat::new(&sys, USER);
    chat.open_dialog().await;
    chat.turn("Hi! My name is Katya.").await;
    chat.turn("My dog is called Rex, he is a beagle.").await;
    chat.turn("My son is 7 years old.").await;
    let known = facts(&pool, 2).await;
    settle(&sys).await;
    assert_eq!(
        facts(&pool, 0).await,
        vec![
            (
                "dog".to_owned(),
                "The user has a dog called Rex.".to_owned()
            ),
            ("name".to_owned(), "The user's name is Katya.".to_owned()),
        ],
        "the name and the dog, and not the child's age (first read: {known:?})"
    );
    let extractions = sys
        .llm
        .requests()
        .iter()
        .filter(|r| {
            r["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .starts_with(standins::llm::memory::ASKED_BY)
        })
        .count();
    assert_eq!(extractions, 1, "one extraction for the batch of three");
    let sourced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memory_facts f JOIN chat_messages m ON m.id = f.source_message_id
         WHERE f.user_id = $1 AND m.role = 'user' AND m.dialog_id = f.dialog_id",
    )
    .bind(USER)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sourced, 2, "each fact keeps the message it came from");

    // A new dialog with Stacy knows them, after the summary's place and before the turns.
    let since = sys.tg.calls().len();
    chat.say("/new").await;
    chat.expect_message(since, |c| {
        buttons_of(c).iter().any(|b| b.starts_with("photo:"))
    })
    .await;
    chat.turn("Do you remember my dog?").await;
    let prompt = prompt_for(&sys, "Do you remember my dog?");
    assert!(
        prompt.contains("What you remember about Ann")
            && prompt.contains("- The user has a dog called Rex.")
            && prompt.contains("- The user's name is Katya."),
        "{prompt}"
    );
    assert!(!prompt.contains("The user's son"), "{prompt}");

    // /memory lists them, each with 🗑.
    let view = chat
        .ask("/memory", |c| text_of(c).contains("remembers about you"))
        .await;
    let shown = text_of(&view);
    assert!(shown.contains("Rex") && shown.contains("Katya"), "{shown}");
    let dog: i64 =
        sqlx::query_scalar("SELECT id FROM memory_facts WHERE user_id = $1 AND key = 'dog'")
            .bind(USER)
            .fetch_one(&pool)
            .await
            .unwrap();
    let buttons = buttons_of(&view);
    for wanted in [
        format!("memdel:{dog}:0"),
        "memall:ask".into(),
        "memshare:on".into(),
    ] {
        assert!(buttons.contains(&wanted), "{wanted} in {buttons:?}");
    }
    let since = sys.tg.calls().len();
    chat.press(&view, &format!("memdel:{dog}:0")).await;
    let after = chat
        .expect_message(since, |c| {
            c.method == "editmessagetext" && text_of(c).contains("Katya")
        })
        .await;
    assert!(!text_of(&after).contains("Rex"), "{}", text_of(&after));
    assert_eq!(facts(&pool, 0).await.len(), 1);

    // /export writes what she remembers.
    let since = sys.tg.calls().len();
    chat.say("/export").await;
    let file = |suffix: &'static str| {
        sys.wait_call(since, STEP, move |c| {
            c.method == "senddocument"
                && c.params["document"]["file_name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(suffix))
        })
    };
    let (jsonl, txt) = (file(".jsonl").await.unwrap(), file(".txt").await.unwrap());
    let read = |c: &standins::telegram::Call| {
        std::fs::read_to_string(c.params["document"]["path"].as_str().unwrap()).unwrap()
    };
    let header: serde_json::Value =
        serde_json::from_str(read(&jsonl).lines().next().unwrap()).unwrap();
    assert_eq!(
        header["chat_metadata"]["memory"][0]["fact"],
        "The user's name is Katya."
    );
    assert!(read(&txt).contains("What Stacy remembers about you:\n- The user's name is Katya."));

    // "Forget everything", asked first.
    let since = sys.tg.calls().len();
    chat.press(&view, "memall:ask").await;
    let ask = chat
        .expect_message(since, |c| buttons_of(c).contains(&"memall:yes".to_owned()))
        .await;
    let since = sys.tg.calls().len();
    chat.press(&ask, "memall:yes").await;
    chat.expect_message(since, |c| text_of(c).contains("has forgotten 1 facts"))
        .await;
    assert!(facts(&pool, 0).await.is_empty());

    // Learned again, then erased with everything else.
    chat.turn("My cat is called Tom.").await;
    chat.turn("My name is Katya, remember?").await;
    chat.turn("What shall we do today?").await;
    assert_eq!(facts(&pool, 2).await.len(), 2);
    settle(&sys).await;
    let ask = chat
        .ask("/delete_my_data", |c| {
            buttons_of(c).contains(&"me:erase".to_owned())
        })
        .await;
    assert!(
        text_of(&ask).contains("remembered facts: 2"),
        "{}",
        text_of(&ask)
    );
    let since = sys.tg.calls().len();
    chat.press(&ask, "me:erase").await;
    chat.expect_message(since, |c| text_of(c).starts_with("🗑 Done"))
        .await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM memory_facts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

/// Switches `chat` to persona `name` (of the picker's first three) through `/persona`.
async fn pick(chat: &Chat<'_>, name: &str) {
    let since = chat.sys.tg.calls().len();
    chat.say("/persona").await;
    let menu = chat
        .expect_message(since, |c| buttons_of(c).contains(&"chats:0".to_owned()))
        .await;
    let i = ["Stacy", "Amanda", "Jane"]
        .iter()
        .position(|n| *n == name)
        .unwrap();
    let since = chat.sys.tg.calls().len();
    chat.press(&menu, &buttons_of(&menu)[i]).await;
    chat.expect_message(since, |c| {
        buttons_of(c).iter().any(|b| b.starts_with("photo:"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_facts_reach_every_persona_and_a_deleted_chat_takes_its_facts_along() {
    let sys = System::start("memory_shared", &[("MEMORY_EVERY", "2")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let chat = Chat::new(&sys, SHARER);
    chat.open_dialog().await;
    chat.turn("My name is Lina.").await;
    chat.turn("My horse is called Storm.").await;
    assert_eq!(facts_of(&pool, SHARER, 2).await.len(), 2);
    settle(&sys).await;

    // Amanda does not know what Stacy learned…
    pick(&chat, "Amanda").await;
    chat.turn("Hello Amanda").await;
    assert!(!prompt_for(&sys, "Hello Amanda").contains("Storm"));
    let view = chat
        .ask("/memory", |c| {
            buttons_of(c).contains(&"memshare:on".to_owned())
        })
        .await;
    assert!(
        text_of(&view).contains("Amanda doesn't remember anything"),
        "{}",
        text_of(&view)
    );
    // …until the user shares the facts with every persona.
    let since = sys.tg.calls().len();
    chat.press(&view, "memshare:on").await;
    let shared = chat
        .expect_message(since, |c| {
            c.method == "editmessagetext" && buttons_of(c).contains(&"memshare:off".to_owned())
        })
        .await;
    assert!(
        text_of(&shared).contains("The user has a horse called Storm. (Stacy)"),
        "{}",
        text_of(&shared)
    );
    chat.turn("Guess what my horse is called").await;
    let prompt = prompt_for(&sys, "Guess what my horse is called");
    assert!(
        prompt.contains("- The user has a horse called Storm."),
        "{prompt}"
    );

    // Deleting Stacy's chat forgets what she learned in it, as its confirmation says.
    let stacy: i64 = sqlx::query_scalar(
        "SELECT d.id FROM dialogs d JOIN girls g ON g.id = d.girl_id
         WHERE d.user_id = $1 AND g.name = 'Stacy'",
    )
    .bind(SHARER)
    .fetch_one(&pool)
    .await
    .unwrap();
    let list = chat
        .ask("/chats", |c| {
            buttons_of(c).contains(&format!("del:{stacy}"))
        })
        .await;
    let since = sys.tg.calls().len();
    chat.press(&list, &format!("del:{stacy}")).await;
    let confirm = chat
        .expect_message(since, |c| buttons_of(c).contains(&format!("delok:{stacy}")))
        .await;
    assert!(
        text_of(&confirm).contains("(2 facts in /memory)"),
        "{}",
        text_of(&confirm)
    );
    let since = sys.tg.calls().len();
    chat.press(&confirm, &format!("delok:{stacy}")).await;
    chat.expect_call(since, |c| c.method == "answercallbackquery")
        .await;
    settle(&sys).await;
    assert!(facts_of(&pool, SHARER, 0).await.is_empty());
}
