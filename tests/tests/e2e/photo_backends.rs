//! The other image backends end to end: ComfyUI (`comfyui`: the workflow filled in, builds
//! old and new, renders redelivered, given up and cleaned up) and Venice.

mod comfyui;

use standins::system::System;

use crate::helpers::Chat;
use crate::photos::photo_of;

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
