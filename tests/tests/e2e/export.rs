//! `/export` through the real functions: the current dialog arrives as a SillyTavern `.jsonl`
//! that round-trips through a JSON-lines parser, and as readable text.

use standins::system::System;

use crate::helpers::{Chat, STEP};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_sends_the_dialog_as_sillytavern_jsonl_and_text() {
    let sys = System::start("export", &[]).await.unwrap();
    let chat = Chat::new(&sys, 9101);
    chat.open_dialog().await;
    chat.turn("tell me about your day, \"honestly\"").await;
    let since = sys.tg.calls().len();
    chat.say("/export").await;
    let jsonl = sys
        .wait_call(since, STEP, |c| {
            c.method == "senddocument"
                && c.params["document"]["file_name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(".jsonl"))
        })
        .await
        .unwrap();
    let text = sys
        .wait_call(since, STEP, |c| {
            c.method == "senddocument"
                && c.params["document"]["file_name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(".txt"))
        })
        .await
        .unwrap();
    assert!(jsonl.params["caption"].as_str().unwrap().contains("Stacy"));

    let body = std::fs::read_to_string(jsonl.params["document"]["path"].as_str().unwrap()).unwrap();
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines[0]["character_name"], "Stacy");
    assert_eq!(lines[0]["user_name"], "Ann");
    assert!(lines[0]["create_date"].as_str().unwrap().contains('@'));
    assert_eq!(
        lines.len(),
        4,
        "header, greeting, the user's message, the answer: {body}"
    );
    assert_eq!(
        (lines[1]["name"].as_str(), lines[1]["is_user"].as_bool()),
        (Some("Stacy"), Some(false))
    );
    assert_eq!(lines[2]["mes"], "tell me about your day, \"honestly\"");
    assert_eq!(lines[2]["is_user"], true);
    assert_eq!(
        lines[3]["mes"],
        standins::llm::answer_for("tell me about your day, \"honestly\"")
    );
    let readable =
        std::fs::read_to_string(text.params["document"]["path"].as_str().unwrap()).unwrap();
    assert!(
        readable.contains("Ann: tell me about your day"),
        "{readable}"
    );
}
