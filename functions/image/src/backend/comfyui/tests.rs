//! Filling the workflow's placeholders and reading ComfyUI's history and queue.

use serde_json::json;

use super::reading::{Outcome, Place, outcome, place};
use super::*;

#[test]
fn placeholders_are_filled_with_typed_values() {
    let wf = json!({
        "6": {"inputs": {"text": "{{prompt}}"}},
        "7": {"inputs": {"text": "bad hands, {{negative_prompt}}"}},
        "3": {"inputs": {"seed": "{{seed}}", "steps": "{{steps}}", "cfg": "{{cfg}}"}},
        "5": {"inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": 1}},
    });
    let job = ImageJob {
        chat_id: 1,
        user_id: 1,
        dialog_id: 1,
        prompt: "a woman".into(),
        negative_prompt: "child".into(),
        seed: -42,
        width: 512,
        height: 768,
        lang: Default::default(),
        reply_to: None,
        caption: String::new(),
        history: String::new(),
    };
    let f = fill(&wf, &job, 20, 6.5);
    assert_eq!(f["6"]["inputs"]["text"], "a woman");
    assert_eq!(f["7"]["inputs"]["text"], "bad hands, child");
    assert_eq!(f["3"]["inputs"]["seed"], 42);
    assert_eq!(f["3"]["inputs"]["steps"], 20);
    assert_eq!(f["3"]["inputs"]["cfg"], 6.5);
    assert_eq!(f["5"]["inputs"]["height"], 768);
    assert_eq!(f["5"]["inputs"]["batch_size"], 1);
}

#[test]
fn history_entries_are_read() {
    let h = json!({"p": {"outputs": {
                             "8": {"images": [{"filename": "prev.png", "subfolder": "", "type": "temp"}]},
                             "9": {"images": [{"filename": "a.png", "subfolder": "s", "type": "output"}]}},
                         "status": {"status_str": "success", "completed": true}}});
    let Outcome::Done(out) = outcome(&h, "p") else {
        panic!("a finished prompt is done")
    };
    assert_eq!(
        (
            out.filename.as_str(),
            out.subfolder.as_str(),
            out.kind.as_str()
        ),
        ("a.png", "s", "output"),
        "the saved image before the preview"
    );
    assert_eq!(outcome(&json!({}), "p"), Outcome::NotYet);
    assert_eq!(outcome(&h, "other"), Outcome::NotYet);
    let e = json!({"p": {"outputs": {}, "status": {"status_str": "error", "completed": false,
                                                  "messages": [["execution_interrupted", {}]]}}});
    assert!(
        matches!(outcome(&e, "p"), Outcome::Failed(why) if why.contains("execution_interrupted"))
    );
    let empty =
        json!({"p": {"outputs": {}, "status": {"status_str": "success", "completed": true}}});
    assert!(matches!(outcome(&empty, "p"), Outcome::Failed(_)));
}

/// A queue entry as ComfyUI lists it: `[number, prompt_id, graph, extra_data, outputs]`.
fn item(n: u32, id: &str, client: &str) -> serde_json::Value {
    json!([n, id, {"3": {"class_type": "KSampler"}}, {"client_id": client, "create_time": 1}, ["9"]])
}

#[test]
fn our_prompt_is_found_in_the_queue_by_id_or_client_id() {
    let q = json!({
        "queue_running": [item(4, "theirs", "web-ui")],
        "queue_pending": [item(5, "server-chosen", "job-1"), item(6, "job-2", "job-2")],
    });
    assert_eq!(place(&q, "theirs", None), Place::Running("theirs".into()));
    assert_eq!(
        place(&q, "job-1", Some("job-1")),
        Place::Pending("server-chosen".into()),
        "an old build's own id, found by our client id"
    );
    assert_eq!(place(&q, "job-1", None), Place::Absent);
    assert_eq!(place(&q, "job-2", None), Place::Pending("job-2".into()));
    assert_eq!(place(&q, "job-3", Some("job-3")), Place::Absent);
    let idle = json!({"queue_running": [], "queue_pending": []});
    assert_eq!(place(&idle, "job-2", Some("job-2")), Place::Absent);
}

#[test]
fn a_running_prompt_wins_over_a_pending_copy() {
    let q = json!({
        "queue_running": [item(1, "first", "job")],
        "queue_pending": [item(2, "second", "job")],
    });
    assert_eq!(
        place(&q, "job", Some("job")),
        Place::Running("first".into())
    );
}
