//! Edits as Telegram judges them: one that changes nothing is "not modified" (and counts as
//! done), one that changes only the buttons is applied.

use standins::system::{System, text_of};

use crate::helpers::{Chat, STEP, delivered, send_effects};

/// Stores an edit of a message already sent, with `params`, and hands it to fn-send.
async fn edit(sys: &System, chat: &Chat<'_>, params: serde_json::Value) -> uuid::Uuid {
    let pool = sys.pool().await.unwrap();
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO effects (id, chat_id, method, params, visible)
         VALUES ($1, $2, 'editMessageText', $3, false)",
    )
    .bind(id)
    .bind(chat.user.id)
    .bind(&params)
    .execute(&pool)
    .await
    .unwrap();
    send_effects(sys, chat.user.id, vec![id]).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_changes_nothing_counts_as_done() {
    let sys = System::start("not-modified", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7105);
    let greeting = chat.open_dialog().await;
    let pool = sys.pool().await.unwrap();
    let params = serde_json::json!({
        "chat_id": chat.user.id,
        "message_id": greeting.result["message_id"],
        "text": text_of(&greeting),
        // The same buttons too: Telegram says "not modified" only when both are unchanged.
        "reply_markup": greeting.params["reply_markup"],
    });
    let id = edit(&sys, &chat, params).await;
    let state = standins::harness::wait_for("the edit to be settled", STEP, || {
        let pool = pool.clone();
        async move {
            let s: String = sqlx::query_scalar("SELECT state FROM effects WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .ok()?;
            (s != "pending").then_some(s)
        }
    })
    .await
    .unwrap();
    assert_eq!(state, "sent", "\"message is not modified\" is success");
    let edits = sys.tg.calls_of("editmessagetext");
    assert_eq!(edits.len(), 1, "tried once");
    assert!(
        !delivered(&edits[0]),
        "and Telegram did say it was not modified"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_changes_only_the_buttons_is_applied() {
    let sys = System::start("buttons-only", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7106);
    let greeting = chat.open_dialog().await;
    let params = serde_json::json!({
        "chat_id": chat.user.id,
        "message_id": greeting.result["message_id"],
        "text": text_of(&greeting),
        "reply_markup": {"inline_keyboard": [[{"text": "🆕", "callback_data": "chats:0"}]]},
    });
    edit(&sys, &chat, params).await;
    let edit = sys
        .wait_call(0, STEP, |c| c.method == "editmessagetext")
        .await
        .unwrap();
    assert!(
        delivered(&edit),
        "Telegram applies a change of buttons alone"
    );
}
