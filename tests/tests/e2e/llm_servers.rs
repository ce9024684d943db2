//! The bot against the LLM servers it may meet. A strict OpenAI-compatible server (reached at
//! a URL that is not Venice's, `LLM_FLAVOR=auto`) gets OpenAI's fields only: answers, streamed
//! answers and photos all work, and the scene call steps down from `json_schema` to
//! `json_object` — refused once per fn-prompt process — or, where no format is served, to
//! plain text. With `LLM_FLAVOR=venice` the requests carry `venice_parameters`, and Venice's
//! image API gets a size within its limits. A temperature out of range stops the start.

use serde_json::Value;
use standins::harness::bin_dir;
use standins::llm::{Mode, answer_for};
use standins::system::{System, buttons_of, text_of};

use crate::helpers::Chat;
use crate::photos::photo_of;

/// The `response_format` types of the scene calls so far, in order (`text`: none asked).
fn scene_formats(sys: &System) -> Vec<String> {
    sys.llm
        .requests()
        .iter()
        .filter(|r| {
            r["messages"][0]["content"]
                .as_str()
                .is_some_and(|s| s.starts_with("You set the scene"))
        })
        .map(|r| {
            r["response_format"]["type"]
                .as_str()
                .unwrap_or("text")
                .to_owned()
        })
        .collect()
}

fn venice_fields(requests: &[Value]) -> usize {
    requests
        .iter()
        .filter(|r| r.get("venice_parameters").is_some())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_openai_server_answers_streams_and_sets_the_scene_in_json_object() {
    let env = [("LLM_FLAVOR", "auto"), ("STREAM_EDIT_SECS", "1")];
    let sys = System::start("llm-strict", &env).await.unwrap();
    Mode::Strict.set(&sys.llm);
    let chat = Chat::new(&sys, 7601);
    chat.open_dialog().await;

    // A chat reply, and one streamed into a draft (⏹ under it) and then completed.
    let reply = chat.turn("hello from a strict server").await;
    let story: Vec<String> = (0..30).map(|i| format!("w{i}")).collect();
    let story = story.join(" ");
    let (since, draft) = chat.slow_answer("tell me a story", &story, 100).await;
    assert!(text_of(&draft).ends_with('▌'), "{}", text_of(&draft));
    let done = chat
        .expect_message(since, |c| {
            text_of(c) == story && buttons_of(c).iter().any(|b| b.starts_with("re:"))
        })
        .await;
    assert_eq!(done.method, "editmessagetext", "the draft is completed");

    // Photos: json_schema is refused once, then every scene call asks json_object.
    let (_, image) = photo_of(&chat, &reply).await;
    let prompt = image["prompt"].as_str().unwrap();
    assert!(prompt.contains("quiet café"), "the model's scene: {prompt}");
    assert_eq!(scene_formats(&sys), ["json_schema", "json_object"]);
    let (_, image) = photo_of(&chat, &reply).await;
    assert!(image["prompt"].as_str().unwrap().contains("quiet café"));
    assert_eq!(
        scene_formats(&sys),
        ["json_schema", "json_object", "json_object"],
        "the level is remembered"
    );

    let requests = sys.llm.requests();
    assert_eq!(
        venice_fields(&requests),
        0,
        "nothing Venice's: {requests:?}"
    );
    assert!(requests.iter().any(|r| r["stream"] == true));
    for r in &requests {
        assert!(r.get("max_tokens").is_none() && r["max_completion_tokens"].is_u64());
    }

    // A server serving no format at all: a new fn-prompt process starts at json_schema again
    // and lands on plain text, whose answer is read for the JSON in it.
    Mode::NoFormats.set(&sys.llm);
    sys.with_process("fn-prompt", |p| p.kill9());
    sys.start_fn("fn-prompt").await.unwrap();
    let asked = scene_formats(&sys).len();
    let (_, image) = photo_of(&chat, &reply).await;
    assert!(image["prompt"].as_str().unwrap().contains("quiet café"));
    let (_, _) = photo_of(&chat, &reply).await;
    assert_eq!(
        scene_formats(&sys)[asked..],
        ["json_schema", "json_object", "text", "text"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn venice_gets_its_parameters_and_an_image_size_within_its_limits() {
    let env = [
        ("LLM_FLAVOR", "venice"),
        ("IMAGE_API_KIND", "venice"),
        ("IMAGE_WIDTH", "2048"),
        ("IMAGE_HEIGHT", "1536"),
    ];
    let sys = System::start("llm-venice", &env).await.unwrap();
    let chat = Chat::new(&sys, 7602);
    chat.open_dialog().await;
    let reply = chat.turn("hello Venice").await;
    let (photo, image) = photo_of(&chat, &reply).await;
    let requests = sys.llm.requests();
    assert_eq!(venice_fields(&requests), requests.len(), "{requests:?}");
    let answer = requests
        .iter()
        .find(|r| r["stream"] == true)
        .expect("the answer's request");
    assert_eq!(
        answer["venice_parameters"]["include_venice_system_prompt"],
        false
    );
    assert_eq!(scene_formats(&sys), ["json_schema"]);
    let size = (image["width"].as_u64(), image["height"].as_u64());
    assert_eq!(
        size,
        (Some(1280), Some(960)),
        "scaled together, on the divisor"
    );
    let png = std::fs::read(photo.params["photo"]["path"].as_str().unwrap()).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1280, 960));
    assert_eq!(text_of(&reply), answer_for("hello Venice"));
}

#[test]
fn a_temperature_out_of_range_stops_the_start_with_its_range() {
    let run = |envs: &[(&str, &str)]| {
        let out = std::process::Command::new(bin_dir().join("fn-reply"))
            .env_clear()
            .envs(envs.iter().copied())
            .output()
            .expect("fn-reply runs");
        let said = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        (out.status.code(), said)
    };
    let (code, said) = run(&[("LLM_TEMPERATURE", "5")]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains(
            "LLM_TEMPERATURE=5 is out of range: with LLM_FLAVOR=venice it must be strictly between 0 and 2"
        ),
        "{said}"
    );
    let local = [
        ("VENICE_API_BASE_URL", "http://127.0.0.1:9/v1"),
        ("LLM_TEMPERATURE", "2"),
        ("LLM_PRESENCE_PENALTY", "-2.5"),
    ];
    let (code, said) = run(&local);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        !said.contains("LLM_TEMPERATURE"),
        "2 is OpenAI's top: {said}"
    );
    assert!(
        said.contains("LLM_PRESENCE_PENALTY=-2.5 is out of range"),
        "{said}"
    );
}
