//! The other image backends end to end: ComfyUI (the workflow filled in, a prompt that never
//! finishes given up) and Venice.

use standins::harness::root;
use standins::script::Step;
use standins::system::{System, text_of};

use crate::helpers::Chat;
use crate::photos::{SAFETY, photo_button, photo_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comfyui_renders_the_workflow_and_gives_up_on_a_prompt_that_never_ends() {
    let workflow = root()
        .join("infra/comfyui/txt2img.json")
        .display()
        .to_string();
    let env = [
        ("IMAGE_API_KIND", "comfyui"),
        ("COMFYUI_WORKFLOW", workflow.as_str()),
        ("COMFYUI_MAX_SECS", "3"),
    ];
    let sys = System::start("photo-comfyui", &env).await.unwrap();
    let chat = Chat::new(&sys, 7301);
    chat.open_dialog().await;
    let reply = chat.turn("hi there").await;
    let (photo, graph) = photo_of(&chat, &reply).await;
    let prompt = graph["6"]["inputs"]["text"].as_str().unwrap();
    assert!(
        prompt.starts_with("photo of an adult woman, 19 years old")
            && prompt.contains("quiet café"),
        "{prompt}"
    );
    assert!(
        graph["7"]["inputs"]["text"]
            .as_str()
            .unwrap()
            .ends_with(SAFETY)
    );
    assert!(
        graph["3"]["inputs"]["seed"].as_u64().is_some() && graph["5"]["inputs"]["width"] == 512
    );
    let png = std::fs::read(photo.params["photo"]["path"].as_str().unwrap()).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (512, 768));

    // A prompt that never finishes is taken off the queue and the user told.
    sys.image.push(vec![Step {
        delay_ms: 60_000,
        ..Default::default()
    }]);
    let button = photo_button(&reply);
    let since = sys.tg.calls().len();
    chat.press(&reply, &button).await;
    chat.expect_message(since, |c| text_of(c).starts_with("Sorry"))
        .await;
    let pool = sys.pool().await.unwrap();
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM photo_jobs WHERE state = 'failed'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(failed, 1, "the slot is given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn venice_generates_the_photo() {
    let sys = System::start("photo-venice", &[("IMAGE_API_KIND", "venice")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 7401);
    chat.open_dialog().await;
    let reply = chat.turn("hi there").await;
    let (photo, req) = photo_of(&chat, &reply).await;
    assert_eq!(req["model"], "lustify-sdxl");
    assert_eq!(req["safe_mode"], false);
    assert!(req["prompt"].as_str().unwrap().contains("quiet café"));
    assert!(req["seed"].as_i64().unwrap().abs() <= 999_999_999);
    let png = std::fs::read(photo.params["photo"]["path"].as_str().unwrap()).unwrap();
    assert_eq!(image::load_from_memory(&png).unwrap().height(), 768);
}
