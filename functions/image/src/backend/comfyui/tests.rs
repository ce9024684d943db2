//! Filling the workflow's placeholders and reading ComfyUI's history.

use super::*;

#[test]
fn placeholders_are_filled_with_typed_values() {
    let wf = serde_json::json!({
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
    let h = serde_json::json!({"p": {"outputs": {"9": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]}},
                                     "status": {"status_str": "success", "completed": true}}});
    assert!(matches!(read_history(&h, "p"), Stage::Done { filename, .. } if filename == "a.png"));
    assert!(matches!(
        read_history(&serde_json::json!({}), "p"),
        Stage::Waiting
    ));
    let e = serde_json::json!({"p": {"outputs": {}, "status": {"status_str": "error", "completed": false}}});
    assert!(matches!(read_history(&e, "p"), Stage::Failed(_)));
}
