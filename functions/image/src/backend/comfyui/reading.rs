//! What ComfyUI's answers say about one prompt: its entry in `GET /history/{id}` (not there
//! yet, failed, or done with the image to fetch) and its place in `GET /queue` (running,
//! pending, or not there). A queue entry is `[number, prompt_id, graph, extra_data, outputs]`;
//! ours is the one with our prompt id or, for a build that chose its own id, our `client_id`
//! in `extra_data`.

use serde_json::Value;

/// An image a finished prompt wrote, as `GET /view` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// File name.
    pub filename: String,
    /// Folder below the output folder.
    pub subfolder: String,
    /// `output` (a saved image) or `temp` (a preview).
    pub kind: String,
}

/// Where a prompt stands in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not in the history: queued, running, or unknown to the server.
    NotYet,
    /// Finished with an error (or interrupted).
    Failed(String),
    /// Finished; its first image (a saved one before a preview).
    Done(Output),
}

/// Reads prompt `id`'s entry from a `GET /history/{id}` answer.
pub fn outcome(history: &Value, id: &str) -> Outcome {
    let Some(entry) = history.get(id) else {
        return Outcome::NotYet;
    };
    let status = &entry["status"];
    if status["status_str"] == "error" {
        return Outcome::Failed(format!("comfyui prompt failed: {}", status["messages"]));
    }
    let mut images: Vec<&Value> = entry["outputs"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter_map(|n| n["images"].as_array())
        .flatten()
        .collect();
    images.sort_by_key(|i| i["type"] != "output");
    match images.first() {
        Some(i) => Outcome::Done(Output {
            filename: i["filename"].as_str().unwrap_or_default().to_owned(),
            subfolder: i["subfolder"].as_str().unwrap_or_default().to_owned(),
            kind: i["type"].as_str().unwrap_or("output").to_owned(),
        }),
        None if status["completed"] == true => {
            Outcome::Failed("comfyui prompt finished without an image".into())
        }
        None => Outcome::NotYet,
    }
}

/// Where a prompt stands in the queue; the id is the server's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Rendering now.
    Running(String),
    /// Waiting its turn.
    Pending(String),
    /// In neither list.
    Absent,
}

/// Finds our prompt in a `GET /queue` answer: the entry whose id is `id` or, when `client` is
/// given, whose `extra_data.client_id` is `client`.
pub fn place(queue: &Value, id: &str, client: Option<&str>) -> Place {
    let ours = |item: &Value| {
        item[1] == id || client.is_some_and(|c| item[3]["client_id"].as_str() == Some(c))
    };
    let find = |list: &str| {
        queue[list]
            .as_array()
            .into_iter()
            .flatten()
            .find(|item| ours(item))
            .map(|item| item[1].as_str().unwrap_or(id).to_owned())
    };
    if let Some(p) = find("queue_running") {
        Place::Running(p)
    } else if let Some(p) = find("queue_pending") {
        Place::Pending(p)
    } else {
        Place::Absent
    }
}
