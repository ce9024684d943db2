//! ComfyUI: the workflow file (API format, `COMFYUI_WORKFLOW`) with its placeholders filled in
//! — `{{prompt}}`, `{{negative_prompt}}`, `{{seed}}`, `{{width}}`, `{{height}}`, `{{steps}}`,
//! `{{cfg}}` — is queued with `POST /prompt` under the job's id as `prompt_id`, watched through
//! `GET /history/{id}` until it completes, and its first output image fetched with `GET /view`.
//! A redelivered job finds its finished prompt in the history and renders nothing again. A
//! prompt that does not finish within `COMFYUI_MAX_SECS` is taken off the queue and given up.

use std::time::{Duration, Instant};

use companion::jobs::ImageJob;
use runtime::HandlerError;
use runtime::config::Env;
use runtime::http::{Timed, success, unanswered};
use serde_json::Value;

use super::client;

/// How often the history is read while a prompt runs.
const POLL: Duration = Duration::from_millis(500);

/// ComfyUI settings.
#[derive(Debug, Clone)]
pub struct ComfySettings {
    /// Server base URL.
    pub url: String,
    /// The workflow, placeholders still in.
    pub workflow: Value,
    /// Sampling steps.
    pub steps: u32,
    /// CFG scale.
    pub cfg_scale: f32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Longest a prompt may take before it is given up.
    pub max_wait: Duration,
}

impl ComfySettings {
    /// Reads the ComfyUI settings and the workflow file.
    pub fn read(env: &mut Env, steps: u32, cfg_scale: f32, timeout: Duration) -> Self {
        let url = env.url("IMAGE_API_URL", "http://127.0.0.1:8188");
        let path = env.string("COMFYUI_WORKFLOW", "infra/comfyui/txt2img.json");
        let workflow =
            match std::fs::read_to_string(&path).map(|t| serde_json::from_str::<Value>(&t)) {
                Ok(Ok(w)) if w.to_string().contains("{{prompt}}") => w,
                Ok(Ok(_)) => {
                    env.problem(format!(
                        "COMFYUI_WORKFLOW={path} has no {{{{prompt}}}} placeholder"
                    ));
                    Value::Null
                }
                Ok(Err(e)) => {
                    env.problem(format!("COMFYUI_WORKFLOW={path} is not JSON: {e}"));
                    Value::Null
                }
                Err(e) => {
                    env.problem(format!("COMFYUI_WORKFLOW={path} cannot be read: {e}"));
                    Value::Null
                }
            };
        Self {
            url,
            workflow,
            steps,
            cfg_scale,
            timeout,
            max_wait: Duration::from_secs(env.parse("COMFYUI_MAX_SECS", 600)),
        }
    }
}

/// The client.
pub struct ComfyUi {
    http: reqwest::Client,
    s: ComfySettings,
}

/// The workflow with the job's values in place of the placeholders: a string that is exactly
/// a placeholder becomes the value (a number stays a number); a placeholder inside a longer
/// string is replaced as text.
pub fn fill(workflow: &Value, job: &ImageJob, steps: u32, cfg: f32) -> Value {
    let values: [(&str, Value); 7] = [
        ("{{prompt}}", job.prompt.clone().into()),
        ("{{negative_prompt}}", job.negative_prompt.clone().into()),
        ("{{seed}}", job.seed.unsigned_abs().into()),
        ("{{width}}", job.width.into()),
        ("{{height}}", job.height.into()),
        ("{{steps}}", steps.into()),
        ("{{cfg}}", f64::from(cfg).into()),
    ];
    fn walk(v: &Value, values: &[(&str, Value)]) -> Value {
        match v {
            Value::String(s) => {
                if let Some((_, val)) = values.iter().find(|(k, _)| k == s) {
                    return val.clone();
                }
                let mut out = s.clone();
                for (k, val) in values {
                    if out.contains(k) {
                        let text = val
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| val.to_string());
                        out = out.replace(k, &text);
                    }
                }
                Value::String(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| walk(x, values)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), walk(x, values)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    walk(workflow, &values)
}

/// Where a prompt stands in the history.
enum Stage {
    Waiting,
    Failed(String),
    Done {
        filename: String,
        subfolder: String,
        kind: String,
    },
}

fn read_history(history: &Value, id: &str) -> Stage {
    let Some(entry) = history.get(id) else {
        return Stage::Waiting;
    };
    let status = &entry["status"];
    if status["status_str"] == "error" {
        return Stage::Failed(format!("comfyui prompt failed: {}", status["messages"]));
    }
    let images = entry["outputs"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
        .filter_map(|n| n["images"].as_array())
        .flatten();
    let mut images: Vec<&Value> = images.collect();
    images.sort_by_key(|i| i["type"] != "output");
    match images.first() {
        Some(i) => Stage::Done {
            filename: i["filename"].as_str().unwrap_or_default().to_owned(),
            subfolder: i["subfolder"].as_str().unwrap_or_default().to_owned(),
            kind: i["type"].as_str().unwrap_or("output").to_owned(),
        },
        None if status["completed"] == true => {
            Stage::Failed("comfyui prompt finished without an image".into())
        }
        None => Stage::Waiting,
    }
}

impl ComfyUi {
    /// Builds the client.
    pub fn new(s: ComfySettings) -> Result<Self, String> {
        Ok(Self {
            http: client(s.timeout)?,
            s,
        })
    }

    async fn get_json(&self, path: &str) -> Result<Value, HandlerError> {
        let resp = self
            .http
            .get(format!("{}{path}", self.s.url))
            .timed("image")
            .await
            .map_err(|e| unanswered("comfyui", e))?;
        success(resp, "comfyui")
            .await?
            .json()
            .await
            .map_err(|e| HandlerError::transient(format!("comfyui answer is not JSON: {e}")))
    }

    /// Whether prompt `id` is running or waiting in ComfyUI's queue.
    async fn queued(&self, id: &str) -> Result<bool, HandlerError> {
        let q = self.get_json("/queue").await?;
        let listed = |k: &str| {
            q[k].as_array()
                .is_some_and(|a| a.iter().any(|item| item[1] == id))
        };
        Ok(listed("queue_running") || listed("queue_pending"))
    }

    /// Queues (unless already queued or done) and waits for the job's picture.
    pub async fn render(&self, job: &ImageJob, id: uuid::Uuid) -> Result<Vec<u8>, HandlerError> {
        let id = id.to_string();
        let mut stage = read_history(&self.get_json(&format!("/history/{id}")).await?, &id);
        if matches!(stage, Stage::Waiting) {
            let body = serde_json::json!({
                "prompt": fill(&self.s.workflow, job, self.s.steps, self.s.cfg_scale),
                "client_id": id,
                "prompt_id": id,
            });
            let resp = self
                .http
                .post(format!("{}/prompt", self.s.url))
                .json(&body)
                .timed("image")
                .await
                .map_err(|e| unanswered("comfyui", e))?;
            // Refused because an earlier delivery queued it already: keep watching that one.
            if let Err(e) = success(resp, "comfyui").await
                && !self.queued(&id).await?
            {
                return Err(e);
            }
        }
        let started = Instant::now();
        while matches!(stage, Stage::Waiting) {
            if started.elapsed() > self.s.max_wait {
                let body = serde_json::json!({"delete": [id]});
                let _ = self
                    .http
                    .post(format!("{}/queue", self.s.url))
                    .json(&body)
                    .timed("image")
                    .await;
                return Err(HandlerError::permanent(format!(
                    "comfyui prompt unfinished after {:?}",
                    self.s.max_wait
                )));
            }
            tokio::time::sleep(POLL).await;
            stage = read_history(&self.get_json(&format!("/history/{id}")).await?, &id);
        }
        match stage {
            Stage::Failed(why) => Err(HandlerError::permanent(why)),
            Stage::Done {
                filename,
                subfolder,
                kind,
            } => {
                let url = format!("{}/view", self.s.url);
                let query = [
                    ("filename", filename),
                    ("subfolder", subfolder),
                    ("type", kind),
                ];
                let resp = self
                    .http
                    .get(url)
                    .query(&query)
                    .timed("image")
                    .await
                    .map_err(|e| unanswered("comfyui", e))?;
                let bytes = success(resp, "comfyui")
                    .await?
                    .bytes()
                    .await
                    .map_err(|e| unanswered("comfyui", e))?;
                Ok(bytes.to_vec())
            }
            Stage::Waiting => unreachable!("the loop waits until the prompt is no longer waiting"),
        }
    }
}

#[cfg(test)]
mod tests;
