//! ComfyUI end to end, each test against a ComfyUI stand-in of its own, so it sees the
//! server's queue, history and the calls it got: the workflow filled in; a build that chooses
//! its own prompt ids delivering at once; a render redelivered while it runs (also after a
//! crash between queueing and recording) rendered once; the history entry deleted once the
//! photo is stored, or kept with `COMFYUI_KEEP_HISTORY=true`; a prompt given up interrupted by
//! id when it runs, taken off the queue when it waits — never interrupting someone else's.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use standins::comfy::{self, Build, Comfy};
use standins::harness::{root, wait_for};
use standins::script::{Script, Step};
use standins::system::{System, text_of};
use standins::telegram::Call;
use uuid::Uuid;

use crate::helpers::{Chat, STEP, settle};
use crate::photos::{SAFETY, photo_button};

/// The system on a ComfyUI stand-in of the test's own.
struct Comfyui {
    sys: System,
    comfy: Arc<Comfy>,
    script: Arc<Script>,
    url: String,
}

async fn start(label: &str, build: Build, extra: &[(&str, &str)]) -> Comfyui {
    let script = Arc::new(Script::default());
    let comfy = Comfy::new(script.clone(), build);
    let addr = standins::serve(comfy::routes(comfy.clone()), "127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("http://{addr}");
    let workflow = root().join(WORKFLOW).display().to_string();
    let mut env = vec![
        ("IMAGE_API_KIND", "comfyui"),
        ("IMAGE_API_URL", url.as_str()),
        ("COMFYUI_WORKFLOW", workflow.as_str()),
    ];
    env.extend_from_slice(extra);
    let sys = System::start(label, &env).await.unwrap();
    Comfyui {
        sys,
        comfy,
        script,
        url,
    }
}

const WORKFLOW: &str = "infra/comfyui/txt2img.json";

/// Presses 📸 under `under`; the photo sent (from log position `since` on).
async fn photo_after(chat: &Chat<'_>, under: &Call, since: usize) -> Call {
    chat.press(under, &photo_button(under)).await;
    chat.sys
        .wait_call(since, STEP, |c| {
            c.method == "sendphoto" && c.params["chat_id"] == chat.user.id
        })
        .await
        .expect("a photo")
}

/// User `user`'s latest photo job: its id and the render id recorded for it.
async fn latest_job(pool: &PgPool, user: i64) -> (Uuid, Option<String>) {
    any_job(pool, user).await.expect("a photo job")
}

/// [`latest_job`], if the user has one.
async fn any_job(pool: &PgPool, user: i64) -> Option<(Uuid, Option<String>)> {
    sqlx::query_as(
        "SELECT job_id, render_id FROM photo_jobs WHERE user_id = $1
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// Photos sent to `chat` from log position `since` on.
fn photos_since(chat: &Chat<'_>, since: usize) -> usize {
    chat.sys.tg.calls()[since..]
        .iter()
        .filter(|c| c.method == "sendphoto" && c.params["chat_id"] == chat.user.id)
        .count()
}

/// Waits (a step at most) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    wait_for(what, STEP, || {
        let done = done();
        async move { done.then_some(()) }
    })
    .await
    .unwrap();
}

async fn failed_slots(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM photo_jobs WHERE state = 'failed'")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comfyui_renders_the_workflow_and_interrupts_a_prompt_given_up_while_it_runs() {
    let t = start(
        "photo-comfyui",
        Build::Current,
        &[("COMFYUI_MAX_SECS", "3")],
    )
    .await;
    let chat = Chat::new(&t.sys, 7301);
    chat.open_dialog().await;
    let reply = chat.turn("hi there").await;
    let photo = photo_after(&chat, &reply, t.sys.tg.calls().len()).await;
    let graph = t.script.requests().last().cloned().unwrap();
    let prompt = graph["6"]["inputs"]["text"].as_str().unwrap();
    assert!(
        prompt.starts_with("photo of an adult woman, 19 years old")
            && prompt.contains("quiet café"),
        "{prompt}"
    );
    let negative = graph["7"]["inputs"]["text"].as_str().unwrap();
    assert!(negative.ends_with(SAFETY), "{negative}");
    assert!(
        graph["3"]["inputs"]["seed"].as_u64().is_some() && graph["5"]["inputs"]["width"] == 512
    );
    let png = std::fs::read(photo.params["photo"]["path"].as_str().unwrap()).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (512, 768));

    // A current build takes the job's id as the prompt id; once the photo is stored the
    // prompt's history entry is deleted.
    let pool = t.sys.pool().await.unwrap();
    let (job, render) = latest_job(&pool, chat.user.id).await;
    assert_eq!(render, Some(job.to_string()));
    until("the history entry deleted", || {
        t.comfy.forgotten() == [job.to_string()]
    })
    .await;
    assert!(t.comfy.history_ids().is_empty());

    // A prompt that never finishes: the user is told, the slot given back, and the render
    // interrupted by its id.
    t.script.push(vec![Step {
        delay_ms: 60_000,
        ..Default::default()
    }]);
    let since = t.sys.tg.calls().len();
    chat.press(&reply, &photo_button(&reply)).await;
    chat.expect_message(since, |c| text_of(c).starts_with("Sorry"))
        .await;
    let (job, _) = latest_job(&pool, chat.user.id).await;
    until("the render interrupted", || t.comfy.running().is_none()).await;
    assert_eq!(
        t.comfy.interrupts(),
        [json!({"prompt_id": job.to_string()})]
    );
    assert_eq!(t.comfy.renders(), 2);
    assert_eq!(failed_slots(&pool).await, 1, "the slot is given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_comfyui_build_choosing_its_own_prompt_ids_delivers_and_cleans_up() {
    let t = start(
        "photo-comfyui-old",
        Build::Old,
        &[("COMFYUI_MAX_SECS", "3")],
    )
    .await;
    let chat = Chat::new(&t.sys, 7302);
    chat.open_dialog().await;
    let reply = chat.turn("hi there").await;
    photo_after(&chat, &reply, t.sys.tg.calls().len()).await;
    let pool = t.sys.pool().await.unwrap();
    let (job, render) = latest_job(&pool, chat.user.id).await;
    let render = render.expect("the server's prompt id recorded");
    assert_ne!(render, job.to_string(), "the server chose its own id");
    until("the history entry deleted", || {
        t.comfy.forgotten() == [render.clone()]
    })
    .await;
    assert_eq!(t.comfy.renders(), 1);

    // Someone else's prompt runs; ours waits behind it and is given up: it is taken off the
    // queue, and the other one — which an old build's /interrupt would stop — runs on.
    t.script.push(vec![Step {
        delay_ms: 60_000,
        ..Default::default()
    }]);
    let graph: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(WORKFLOW)).unwrap()).unwrap();
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/prompt", t.url))
        .json(&json!({"prompt": graph, "client_id": "someone-else"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = answer["prompt_id"].as_str().unwrap().to_owned();
    let since = t.sys.tg.calls().len();
    chat.press(&reply, &photo_button(&reply)).await;
    chat.expect_message(since, |c| text_of(c).starts_with("Sorry"))
        .await;
    until("our prompt taken off the queue", || {
        t.comfy.unqueued().len() == 1
    })
    .await;
    let ours = t.comfy.unqueued()[0].clone();
    assert_ne!(ours, other, "only ours is taken off");
    // The given-up render is forgotten, so a retry from /admin queues afresh.
    let (job, _) = latest_job(&pool, chat.user.id).await;
    wait_for("the given-up render forgotten", STEP, || {
        let pool = pool.clone();
        async move { (any_job(&pool, chat.user.id).await? == (job, None)).then_some(()) }
    })
    .await
    .unwrap();
    assert!(
        t.comfy.interrupts().is_empty(),
        "{:?}",
        t.comfy.interrupts()
    );
    assert_eq!(t.comfy.running(), Some(other));
    assert_eq!(failed_slots(&pool).await, 1, "the slot is given back");
}

/// Kills fn-image once `chat`'s latest photo job has its prompt running and recorded, then
/// starts it again; with `unrecorded`, the record is wiped first, as if the copy had died
/// between the server's answer and recording it (only its mark is left).
async fn kill_while_rendering(t: &Comfyui, chat: &Chat<'_>, pool: &PgPool, unrecorded: bool) {
    let (comfy, user) = (t.comfy.clone(), chat.user.id);
    let job = wait_for("the prompt running and recorded", STEP, || {
        let (comfy, pool) = (comfy.clone(), pool.clone());
        async move {
            let (job, render) = any_job(&pool, user).await?;
            (render.is_some() && comfy.running() == render).then_some(job)
        }
    })
    .await
    .unwrap();
    if unrecorded {
        sqlx::query("UPDATE photo_jobs SET render_id = NULL WHERE job_id = $1")
            .bind(job)
            .execute(pool)
            .await
            .unwrap();
    }
    t.sys.with_process("fn-image", |p| p.kill9());
    t.sys.start_fn("fn-image").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comfyui_render_redelivered_while_it_runs_is_rendered_once() {
    let t = start(
        "photo-comfyui-redelivered",
        Build::Old,
        &[("COMFYUI_KEEP_HISTORY", "true")],
    )
    .await;
    let chat = Chat::new(&t.sys, 7303);
    chat.open_dialog().await;
    let reply = chat.turn("hi there").await;
    let pool = t.sys.pool().await.unwrap();
    let slow = || Step {
        delay_ms: 6_000,
        ..Default::default()
    };

    // fn-image dies while the render runs; the job comes back to the new copy, which finds
    // the recorded prompt in the queue and waits for it.
    t.script.push(vec![slow()]);
    let since = t.sys.tg.calls().len();
    let photo = async { photo_after(&chat, &reply, since).await };
    let killed = kill_while_rendering(&t, &chat, &pool, false);
    let (_, ()) = tokio::join!(photo, killed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    settle(&t.sys).await;
    assert_eq!(photos_since(&chat, since), 1, "one photo sent");
    assert_eq!(t.comfy.renders(), 1, "one render");
    let (_, render) = latest_job(&pool, chat.user.id).await;
    assert_eq!(t.comfy.history_ids(), [render.unwrap()], "the history kept");
    assert!(t.comfy.forgotten().is_empty());

    // The copy dies between queueing the prompt and recording the server's id: the next
    // delivery finds the prompt by its client id in the queue (this build chose the id).
    t.script.push(vec![slow()]);
    let since = t.sys.tg.calls().len();
    let photo = async { photo_after(&chat, &reply, since).await };
    let killed = kill_while_rendering(&t, &chat, &pool, true);
    let (_, ()) = tokio::join!(photo, killed);
    tokio::time::sleep(Duration::from_secs(3)).await;
    settle(&t.sys).await;
    assert_eq!(photos_since(&chat, since), 1, "one photo sent");
    assert_eq!(t.comfy.renders(), 2, "one render more");
    let (job, render) = latest_job(&pool, chat.user.id).await;
    let render = render.expect("the prompt's id recorded again");
    assert_ne!(render, job.to_string());
    assert!(t.comfy.history_ids().contains(&render));
}
