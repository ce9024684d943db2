//! Long-term memory keeps nothing it must not, through the real functions with the LLM
//! stand-in extracting facts: a fact placing the user as a minor in sexual content is never
//! stored even when the extractor writes it down, and editing a message forgets the fact drawn
//! from it (the edited text is read again).

use std::time::{Duration, Instant};

use standins::system::System;

use crate::helpers::{Chat, STEP, settle};

const CAREFUL: i64 = 7_880_101;
const EDITOR: i64 = 7_880_102;

/// User `user`'s facts, `(key, fact)` by key, once `done` holds for them (or after a while).
async fn facts_when(
    pool: &sqlx::PgPool,
    user: i64,
    done: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, fact FROM memory_facts WHERE user_id = $1 ORDER BY key")
                .bind(user)
                .fetch_all(pool)
                .await
                .unwrap();
        if done(&rows) || started.elapsed() > STEP {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fact_making_the_user_a_minor_in_sex_is_never_stored() {
    let sys = System::start("memory_minor", &[("MEMORY_EVERY", "2")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let chat = Chat::new(&sys, CAREFUL);
    chat.open_dialog().await;
    chat.turn("My name is Olga.").await;
    chat.say("I was 15 when I first had sex.").await;
    let stored = facts_when(&pool, CAREFUL, |f| !f.is_empty()).await;
    settle(&sys).await;
    // The stand-in did write the fact down: the screen, not the extractor, kept it out.
    let extraction = sys
        .llm
        .requests()
        .into_iter()
        .find(|r| {
            r["messages"][1]["content"]
                .as_str()
                .is_some_and(|c| c.contains("I was 15 when I first had sex"))
        })
        .expect("the batch was sent to the extractor");
    let answer = standins::llm::memory::facts_answer(&extraction).unwrap();
    assert!(answer.contains("when they first had sex"), "{answer}");
    assert_eq!(
        facts_when(&pool, CAREFUL, |_| true).await,
        vec![("name".to_owned(), "The user's name is Olga.".to_owned())],
        "only the name (first read: {stored:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_a_message_forgets_the_fact_drawn_from_it() {
    let sys = System::start("memory_edit", &[("MEMORY_EVERY", "2")])
        .await
        .unwrap();
    let pool = sys.pool().await.unwrap();
    let chat = Chat::new(&sys, EDITOR);
    chat.open_dialog().await;
    let said = chat.say("My cat is called Tom.").await;
    settle(&sys).await;
    chat.turn("What a day it was.").await;
    let cat = |f: &[(String, String)]| f.iter().any(|(k, _)| k == "cat");
    assert!(
        cat(&facts_when(&pool, EDITOR, cat).await),
        "the cat is learned"
    );
    settle(&sys).await;

    let tom = said["message"]["message_id"].as_i64().unwrap();
    chat.edit(tom, "I have no pets at all.").await;
    assert!(
        !cat(&facts_when(&pool, EDITOR, |f| !cat(f)).await),
        "the edit forgets the cat"
    );
    settle(&sys).await;
    // The edited text is read again with the next batch; the cat does not come back.
    chat.turn("My dog is called Rex.").await;
    let dog = |f: &[(String, String)]| f.iter().any(|(k, _)| k == "dog");
    let after = facts_when(&pool, EDITOR, dog).await;
    settle(&sys).await;
    assert_eq!(
        facts_when(&pool, EDITOR, |_| true).await,
        vec![(
            "dog".to_owned(),
            "The user has a dog called Rex.".to_owned()
        )],
        "first read: {after:?}"
    );
}
