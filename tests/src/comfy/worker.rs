//! The ComfyUI stand-in's one worker: each queued prompt gets a task that waits for the GPU,
//! takes the lowest-numbered pending prompt (a prompt dropped from the queue leaves its task
//! nothing to do), renders it as the script's next step says — its delay is the render's
//! length, a non-200 status an execution error, `size`/`body` what the image is — unless
//! interrupted meanwhile, and moves it from running to the history in one step, as the real
//! queue does under its mutex.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Comfy, Prompt, node};
use crate::picture::picture;
use crate::script::Step;

/// How often a render looks whether it was interrupted.
const CHECK: Duration = Duration::from_millis(20);

/// Renders the next pending prompt, if any is left.
pub(super) async fn render_next(c: Arc<Comfy>) {
    let _gpu = c.gpu.lock().await;
    let stop = Arc::new(AtomicBool::new(false));
    let prompt = {
        let mut s = c.state.lock().unwrap();
        let next = s.pending.iter().enumerate().min_by_key(|(_, p)| p.number);
        let Some(next) = next.map(|(i, _)| i) else {
            return;
        };
        let prompt = s.pending.remove(next);
        s.running = Some((prompt.clone(), stop.clone()));
        prompt
    };
    c.renders.fetch_add(1, Ordering::SeqCst);
    let step = tokio::select! {
        step = c.script.begin(prompt.graph.clone()) => Some(step),
        () = stopped(&stop) => None,
    };
    let (status, file) = match step {
        None => (failed(&prompt, "execution_interrupted"), None),
        Some(step) if step.status != 200 => (failed(&prompt, "execution_error"), None),
        Some(step) => {
            let name = format!("companion_{:05}_.png", prompt.number);
            (
                succeeded(&prompt),
                Some((name, image(&prompt.graph, &step))),
            )
        }
    };
    let outputs = match &file {
        Some((name, _)) => {
            json!({"9": {"images": [{"filename": name, "subfolder": "", "type": "output"}]}})
        }
        None => json!({}),
    };
    let entry = json!({
        "prompt": prompt.listed(),
        "outputs": outputs,
        "status": status,
        "meta": {"9": {}},
    });
    let mut s = c.state.lock().unwrap();
    if let Some((name, bytes)) = file {
        s.files.insert(name, bytes);
    }
    s.history.push((prompt.id.clone(), entry));
    s.running = None;
}

async fn stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(CHECK).await;
    }
}

/// The picture a render makes: the step's body, or a PNG of the graph's latent size.
fn image(graph: &Value, step: &Step) -> Vec<u8> {
    if let Some(raw) = &step.body {
        return raw.clone().into_bytes();
    }
    let latent = node(graph, "EmptyLatentImage")
        .map(|n| n["inputs"].clone())
        .unwrap_or_default();
    let dim = |k: &str| latent[k].as_u64().unwrap_or(512).clamp(8, 1024) as u32;
    let (w, h) = step.size.unwrap_or((dim("width"), dim("height")));
    let seed = node(graph, "KSampler")
        .and_then(|n| n["inputs"]["seed"].as_i64())
        .unwrap_or(1);
    picture(w, h, seed)
}

fn succeeded(p: &Prompt) -> Value {
    json!({"status_str": "success", "completed": true, "messages": [
        ["execution_start", {"prompt_id": p.id}],
        ["execution_success", {"prompt_id": p.id}],
    ]})
}

fn failed(p: &Prompt, how: &str) -> Value {
    json!({"status_str": "error", "completed": false, "messages": [
        ["execution_start", {"prompt_id": p.id}],
        [how, {"prompt_id": p.id, "node_id": "3", "node_type": "KSampler"}],
    ]})
}
