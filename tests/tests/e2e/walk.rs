//! The first five minutes, walked as a user: greeting and its alternates, streamed answers,
//! another version of an answer and browsing the versions, `/retry`, `/new`, "My chats"
//! (continue, rename, delete), Telegram's command menu in both languages.

use companion::locale::{Lang, T, t};
use standins::llm::answer_for;
use standins::script::Step;
use standins::system::{System, buttons_of, labels_of, text_of};
use standins::telegram::Call;

use crate::helpers::Chat;

/// The model's next answer.
fn answering(content: &str) -> Step {
    Step {
        content: Some(content.to_owned()),
        ..Default::default()
    }
}

fn button(c: &Call, prefix: &str) -> String {
    buttons_of(c)
        .into_iter()
        .find(|b| b.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button under {c:?}"))
}

fn edit_of(c: &Call, message: i64) -> bool {
    c.method == "editmessagetext" && c.params["message_id"] == message
}

/// Says `text` while the model streams `content`; returns the draft and the final edit.
async fn streamed_turn(chat: &Chat<'_>, text: &str, content: &str) -> (Call, Call) {
    let (since, draft) = chat.slow_answer(text, content, 300).await;
    let shown = text_of(&draft).trim_end_matches(" ▌").to_owned();
    assert!(
        content.starts_with(&shown) && shown.len() < content.len(),
        "{shown}"
    );
    let id = draft.result["message_id"].as_i64().unwrap();
    let last = chat
        .expect_call(since, |c| edit_of(c, id) && text_of(c) == content)
        .await;
    (draft, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_walks_greetings_streaming_versions_chats_rename_and_delete() {
    let sys = System::start("walk", &[]).await.unwrap();
    let chat = Chat::new(&sys, 5401);
    let pool = sys.pool().await.unwrap();

    // Telegram's command menu was set in both languages.
    let menus = sys.tg.calls_of("setmycommands");
    let ru = menus
        .iter()
        .find(|c| c.params["language_code"] == "ru")
        .expect("ru menu");
    let en = menus
        .iter()
        .find(|c| c.params.get("language_code").is_none())
        .expect("default");
    assert_eq!(en.params["commands"].as_array().unwrap().len(), 10);
    assert_eq!(en.params["commands"][7]["command"], "delete_my_data");
    assert_eq!(ru.params["commands"][3]["command"], "chats");
    assert_eq!(
        ru.params["commands"][3]["description"],
        t(Lang::Ru, T::CmdChats)
    );

    // Stacy's greeting, then ▶ shows her next greeting in place.
    let greeting = chat.open_dialog().await;
    assert!(text_of(&greeting).contains("Ann"));
    let next = button(&greeting, "sw:");
    let since = sys.tg.calls().len();
    let greeting_id = greeting.result["message_id"].as_i64().unwrap();
    chat.press(&greeting, &next).await;
    let other = chat.expect_call(since, |c| edit_of(c, greeting_id)).await;
    assert_ne!(text_of(&other), text_of(&greeting));

    // Three streamed turns: a draft with ⏹, edits, then the whole text with 🔄 and 📸.
    let mut last = None;
    let contents = [
        "The rain finally stopped, so I walked home along the river and counted the boats for you.",
        "My roommate burned the pasta again, and now the whole floor smells like a campfire tonight.",
        "Tomorrow I have an exam on medieval poetry, wish me luck, I barely slept this whole week.",
    ];
    for (i, content) in contents.iter().enumerate() {
        let content = content.to_string();
        let (draft, done) = streamed_turn(&chat, &format!("turn {i}"), &content).await;
        assert_eq!(labels_of(&done), ["🔄", "📸 Photo"]);
        last = Some((draft, done, content));
    }
    let (draft, done, first_version) = last.unwrap();
    let shown = draft.result["message_id"].as_i64().unwrap();

    // 🔄: a second version replaces the text in place, ◀ 2/2 ▶ browse the versions.
    let since = sys.tg.calls().len();
    chat.press(&draft, &button(&done, "re:")).await;
    let second = answer_for("turn 2");
    let v2 = chat
        .expect_call(since, |c| edit_of(c, shown) && text_of(c) == second)
        .await;
    assert_eq!(labels_of(&v2)[..3], ["◀", "2/2", "▶"]);
    let back = buttons_of(&v2)[0].clone();
    let since = sys.tg.calls().len();
    chat.press(&draft, &back).await;
    chat.expect_call(since, |c| edit_of(c, shown) && text_of(c) == first_version)
        .await;
    // /retry writes a third version into the same message.
    sys.llm
        .push(vec![answering("A third way to say it, warmer this time.")]);
    let since = sys.tg.calls().len();
    chat.say("/retry").await;
    let v3 = chat
        .expect_call(since, |c| {
            edit_of(c, shown) && text_of(c).starts_with("A third way")
        })
        .await;
    assert_eq!(labels_of(&v3)[1], "3/3");
    let (content, versions): (String, i32) = sqlx::query_as(
        "SELECT content, cardinality(variants) FROM chat_messages
         WHERE role = 'assistant' AND reply_to = (SELECT max(m.id) FROM chat_messages m
             JOIN dialogs d ON d.id = m.dialog_id WHERE d.user_id = $1 AND m.role = 'user')",
    )
    .bind(chat.user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (content.as_str(), versions),
        (text_of(&v3), 3),
        "the chosen one is kept"
    );

    // /new, then "My chats" lists both dialogs, named by their first words.
    chat.ask("/new", |c| {
        buttons_of(c).iter().any(|b| b.starts_with("sw:"))
    })
    .await;
    chat.turn("hello again").await;
    let dialogs: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM dialogs WHERE user_id = $1 ORDER BY id")
            .bind(chat.user.id)
            .fetch_all(&pool)
            .await
            .unwrap();
    let (first, second) = (dialogs[0], dialogs[1]);
    let list = chat
        .ask("/chats", |c| {
            buttons_of(c).contains(&format!("open:{first}"))
        })
        .await;
    let text = text_of(&list);
    assert!(
        text.contains("Stacy: hello again") && text.contains("Stacy: turn 0"),
        "{text}"
    );
    assert!(
        text.find("hello again") < text.find("turn 0"),
        "latest first: {text}"
    );

    // Continue the first dialog: the next message lands there.
    let since = sys.tg.calls().len();
    chat.press(&list, &format!("open:{first}")).await;
    chat.expect_message(since, |c| text_of(c).contains("continues"))
        .await;
    chat.turn("back to the river").await;
    let in_first: i64 = sqlx::query_scalar(
        "SELECT dialog_id FROM chat_messages WHERE content = 'back to the river'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(in_first, first);

    // ✏️ rename: the next text is the title.
    let since = sys.tg.calls().len();
    chat.press(&list, &format!("ren:{first}")).await;
    chat.expect_message(since, |c| text_of(c).starts_with("Send the new title"))
        .await;
    chat.ask("River walk", |c| text_of(c).contains("“River walk”"))
        .await;
    let list = chat
        .ask("/chats", |c| text_of(c).contains("River walk"))
        .await;

    // 🗑 asks first, in place; confirmed, the dialog and its messages are gone.
    let list_id = list.result["message_id"].as_i64().unwrap();
    let since = sys.tg.calls().len();
    chat.press(&list, &format!("del:{second}")).await;
    let ask = chat.expect_call(since, |c| edit_of(c, list_id)).await;
    assert!(
        text_of(&ask).starts_with("Delete the chat"),
        "{}",
        text_of(&ask)
    );
    let since = sys.tg.calls().len();
    chat.press(&list, &format!("delok:{second}")).await;
    let after = chat.expect_call(since, |c| edit_of(c, list_id)).await;
    assert!(!buttons_of(&after).contains(&format!("open:{second}")));
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM dialogs WHERE user_id = $1")
        .bind(chat.user.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
}
