//! Photos that follow the story, through the real functions: the exact prompts at each nudity
//! level and from the keyword fallback, the reply, caption and 🔄 under a photo, the history
//! line the persona sees, one photo rendering per dialog, limits under concurrent presses with
//! failures not charged, and a huge picture sent within Telegram's limits.

use serde_json::Value;
use standins::harness::root;
use standins::script::Step;
use standins::system::{System, buttons_of, labels_of, text_of};
use standins::telegram::Call;

use crate::helpers::{Chat, STEP, settle};

/// A persona card's look: (appearance, clothing, negative prompt).
fn look(slug: &str) -> (String, String, String) {
    let card: Value = serde_json::from_slice(
        &std::fs::read(root().join(format!("personas/{slug}.json"))).unwrap(),
    )
    .unwrap();
    let c = &card["data"]["extensions"]["companion"];
    let s = |k: &str| c[k].as_str().unwrap().to_owned();
    (s("appearance"), s("clothing"), s("negative_prompt"))
}

pub(crate) const SAFETY: &str = "child, children, kid, minor, underage, teen, teenager, loli, childlike, young-looking, school uniform";
const TAIL: &str = "natural light, realistic, detailed, smartphone photo";
/// The stand-in model's scene (`standins::llm::SCENE`), as it reads in a prompt.
const SCENE: &str = "sitting with her chin on her hand, warm, teasing smile, by the window of a quiet café, late afternoon";

/// The 📸 button's data under a message.
pub(crate) fn photo_button(under: &Call) -> String {
    buttons_of(under)
        .into_iter()
        .find(|b| b.starts_with("photo:"))
        .expect("a photo button")
}

/// Presses 📸 under `under` and returns the photo sent and the image request it came from.
pub(crate) async fn photo_of(chat: &Chat<'_>, under: &Call) -> (Call, Value) {
    let sys = chat.sys;
    let button = photo_button(under);
    let since = sys.tg.calls().len();
    chat.press(under, &button).await;
    let photo = sys
        .wait_call(since, STEP, |c| {
            c.method == "sendphoto" && c.params["chat_id"] == chat.user.id
        })
        .await
        .expect("a photo");
    (photo, sys.image.requests().last().cloned().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_follow_the_story_with_the_exact_prompt_at_each_level() {
    let sys = System::start("photo-levels", &[]).await.unwrap();
    let chat = Chat::new(&sys, 7101);
    chat.open_dialog().await;
    let (appearance, outfit, own_negative) = look("stacy");
    let prompt = |clothing: &str, scene: &str| {
        format!("photo of an adult woman, 19 years old, {appearance}, {clothing}, {scene}, {TAIL}")
    };
    let negative = |level: &str| {
        let level = if level.is_empty() {
            String::new()
        } else {
            format!("{level}, ")
        };
        format!("{own_negative}, {level}{SAFETY}")
    };

    // The model answers nonsense: the scene comes from the dialog's keywords.
    let reply = chat.turn("let's walk to the beach at sunset").await;
    sys.llm.push(vec![Step {
        content: Some("Sure! She is on a beach.".into()),
        ..Default::default()
    }]);
    let (photo, req) = photo_of(&chat, &reply).await;
    let fallback = "relaxed pose, looking at the camera, soft smile, on a sunny beach, evening, warm sunset light";
    assert_eq!(req["prompt"], prompt(&outfit, fallback));
    assert_eq!(
        req["negative_prompt"],
        negative("nsfw, nude, naked, nipples, lingerie, underwear")
    );
    // A reply to the message it illustrates, with a caption and 🔄 another one.
    assert_eq!(
        photo.params["reply_parameters"]["message_id"],
        reply.result["message_id"]
    );
    assert_eq!(photo.params["caption"], "Just for you 📸");
    assert!(
        labels_of(&photo).contains(&"🔄 Another one".to_owned()),
        "{:?}",
        photo.params
    );

    // The persona knows she sent it.
    chat.turn("did you like the sea?").await;
    let seen = sys.llm.requests().last().cloned().unwrap();
    let line = format!(
        "[Stacy sent a photo: on a sunny beach, evening, warm sunset light, {fallback_pose}, {outfit}]",
        fallback_pose = "relaxed pose, looking at the camera, soft smile"
    );
    assert!(
        seen["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "system" && m["content"] == line.as_str()),
        "history line missing: {seen}"
    );

    // Level by level, with the model's scene; the dialog turns adult on the way.
    chat.turn("I want you so much, let's have sex tonight")
        .await;
    let levels = [
        (
            "slowly take off your hoodie for me",
            format!("{outfit}, undressing, clothes half off"),
            "nude, naked, nipples, genitals",
        ),
        (
            "now stay just in your lingerie",
            "in lace lingerie, bare shoulders".to_owned(),
            "genitals, fully nude",
        ),
        ("you are completely naked now", "nude".to_owned(), ""),
    ];
    for (text, clothing, level_negative) in levels {
        let reply = chat.turn(text).await;
        let (photo, req) = photo_of(&chat, &reply).await;
        assert_eq!(req["prompt"], prompt(&clothing, SCENE), "after {text:?}");
        assert_eq!(
            req["negative_prompt"],
            negative(level_negative),
            "after {text:?}"
        );
        assert_eq!(
            req["seed"],
            sys.image.requests()[0]["seed"],
            "one face per dialog"
        );
        assert_eq!(photo.params["caption"], "Thinking of you ☕");
    }

    // Pressed twice while it renders: one photo, and "on its way" for the second press.
    let reply = chat.turn("one more?").await;
    sys.image.push(vec![Step {
        delay_ms: 1500,
        ..Default::default()
    }]);
    let button = photo_button(&reply);
    let since = sys.tg.calls().len();
    chat.press(&reply, &button).await;
    chat.press(&reply, &button).await;
    chat.expect_call(since, |c| text_of(c).contains("already on its way"))
        .await;
    sys.wait_call(since, STEP, |c| c.method == "sendphoto")
        .await
        .unwrap();
    settle(&sys).await;
    let photos = sys.tg.calls()[since..]
        .iter()
        .filter(|c| c.method == "sendphoto")
        .count();
    assert_eq!(photos, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_under_concurrent_presses_and_failures_are_not_charged() {
    let sys = System::start("photo-limits", &[("MAX_PHOTOS_PER_USER", "3")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 7201);
    let mut greetings = vec![chat.open_dialog().await];
    for _ in 0..4 {
        greetings.push(
            chat.ask("/new", |c| {
                buttons_of(c).iter().any(|b| b.starts_with("photo:"))
            })
            .await,
        );
    }
    let pool = sys.pool().await.unwrap();
    let used = || async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM photo_jobs WHERE state = 'done'")
            .fetch_one(&pool)
            .await
            .unwrap();
        n
    };

    // Corrupt image data: a kind apology with a try-again button, nothing sent, not charged.
    sys.image.push(vec![Step {
        body: Some(r#"{"images": ["bm90IGFuIGltYWdl"]}"#.into()),
        ..Default::default()
    }]);
    let since = sys.tg.calls().len();
    let button = photo_button(&greetings[0]);
    chat.press(&greetings[0], &button).await;
    let sorry = chat
        .expect_message(since, |c| text_of(c).starts_with("Sorry"))
        .await;
    assert!(
        buttons_of(&sorry).contains(&button),
        "try again: {:?}",
        sorry.params
    );
    assert!(
        sys.tg.calls()[since..]
            .iter()
            .all(|c| c.method != "sendphoto")
    );
    assert_eq!(used().await, 0);

    // The backend fails once, then sends a 12000×12000 picture: it arrives within the limits.
    sys.image.push(vec![
        Step {
            status: 500,
            ..Default::default()
        },
        Step {
            size: Some((12_000, 12_000)),
            ..Default::default()
        },
    ]);
    let (photo, _) = photo_of(&chat, &greetings[0]).await;
    let bytes = std::fs::read(photo.params["photo"]["path"].as_str().unwrap()).unwrap();
    assert!(bytes.len() <= 10 << 20);
    let img = image::load_from_memory(&bytes).expect("a valid picture");
    assert!(
        img.width() + img.height() <= 10_000 && img.width() <= 2560,
        "{}x{}",
        img.width(),
        img.height()
    );
    assert_eq!(used().await, 1);

    // Ten presses at once over five dialogs: only the two photos left are made.
    let since = sys.tg.calls().len();
    let presses = greetings.iter().flat_map(|g| {
        let b = photo_button(g);
        [(g, b.clone()), (g, b)]
    });
    let chat = &chat;
    futures::future::join_all(presses.map(|(g, b)| async move { chat.press(g, &b).await })).await;
    for _ in 0..2 {
        sys.wait_call(since, STEP, |c| c.method == "sendphoto")
            .await
            .unwrap();
    }
    settle(&sys).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let calls = sys.tg.calls();
    assert_eq!(
        calls[since..]
            .iter()
            .filter(|c| c.method == "sendphoto")
            .count(),
        2
    );
    assert_eq!(used().await, 3);
    let toasts: Vec<&str> = calls[since..]
        .iter()
        .filter(|c| c.method == "answercallbackquery")
        .map(text_of)
        .collect();
    assert_eq!(toasts.len(), 10, "{toasts:?}");
    assert_eq!(
        toasts
            .iter()
            .filter(|t| t.contains("is taking a photo"))
            .count(),
        2,
        "{toasts:?}"
    );
    assert!(
        toasts.iter().any(|t| t.contains("Photos left: 0")),
        "{toasts:?}"
    );

    // The limit reached says so.
    let since = sys.tg.calls().len();
    chat.say("/photo").await;
    chat.expect_message(since, |c| text_of(c).contains("all 3 of your photos"))
        .await;
    let photos: i32 =
        sqlx::query_scalar("SELECT total_photos FROM user_retention WHERE user_id = $1")
            .bind(chat.user.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(photos, 3);
}
