//! The Bot API methods the stand-in answers, and its control routes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::{Json, http::StatusCode};
use serde_json::{Map, Value, json};

use super::{Call, Failure, Telegram, Webhook, params};

const BOT: i64 = 1;

fn bot_user() -> Value {
    json!({"id": BOT, "is_bot": true, "first_name": "Companion", "username": "companion_bot"})
}

fn error(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(r) = retry_after {
        body["parameters"] = json!({"retry_after": r});
    }
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

/// `POST /bot<token>/<method>`.
pub async fn dispatch(
    State(tg): State<Arc<Telegram>>,
    Path((bot, method)): Path<(String, String)>,
    req: Request,
) -> Response {
    if !bot.starts_with("bot") || bot.len() < 4 {
        return error(404, "Not Found", None);
    }
    if !tg.rules.lock().unwrap().token_ok(&bot) {
        return error(401, "Unauthorized", None);
    }
    let method = method.to_ascii_lowercase();
    // Each request its own number for the files it uploads: two uploads at once never write
    // the same path.
    let seq = tg.next_file.fetch_add(1, Ordering::Relaxed) as usize;
    let params = match params::read(req, &tg.files_dir, seq).await {
        Ok(p) => p,
        Err(d) => return error(400, &d, None),
    };
    if method == "getupdates" {
        if tg.webhook.lock().unwrap().is_some() {
            let d = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
            return error(409, d, None);
        }
        return get_updates(&tg, &params).await;
    }
    let chat = params
        .get("chat_id")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let latency = tg.latency_ms.load(std::sync::atomic::Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let hang = chat.and_then(|c| tg.rules.lock().unwrap().hang.get(&c).copied());
    let slow = tg.slow.lock().unwrap().get(&method).copied();
    if let Some(d) = hang.or(slow) {
        tokio::time::sleep(d).await;
    }
    let outage = tg.down().then(|| Failure {
        method: method.clone(),
        error_code: 502,
        description: "Bad Gateway".to_owned(),
        retry_after: None,
        after: 0,
    });
    let failure = outage.or_else(|| {
        let mut f = tg.failures.lock().unwrap();
        match f.iter_mut().enumerate().find(|(_, x)| x.method == method) {
            Some((_, x)) if x.after > 0 => {
                x.after -= 1;
                None
            }
            Some((i, _)) => f.remove(i),
            None => None,
        }
    });
    let checked = tg.rules.lock().unwrap().check(&method, &params);
    let outcome = match (failure, checked) {
        (Some(f), _) => Err((f.error_code, f.description, f.retry_after)),
        (None, Err(refusal)) => Err(refusal),
        (None, Ok(())) => answer(&tg, &method, &params),
    };
    if let (Ok(r), Some(chat)) = (&outcome, chat)
        && let Some(id) = r["message_id"].as_i64()
    {
        let shown = r["text"].as_str().or(r["caption"].as_str()).unwrap_or("");
        let markup = params.get("reply_markup").cloned().unwrap_or(Value::Null);
        tg.rules.lock().unwrap().sent(chat, id, shown, &markup);
    }
    let result = outcome.clone().unwrap_or(Value::Null);
    {
        let mut calls = tg.calls.lock().unwrap();
        let seq = calls.len();
        let call = Call {
            seq,
            method,
            params: Value::Object(params),
            result: result.clone(),
            at_us: tg.now_us(),
        };
        let _ = tg.feed.send(call.clone());
        calls.push(call);
    }
    tg.changed.notify_waiters();
    match outcome {
        Ok(r) => Json(json!({"ok": true, "result": r})).into_response(),
        Err((code, d, retry)) => error(code, &d, retry),
    }
}

type Outcome = Result<Value, (u16, String, Option<u64>)>;

fn answer(tg: &Telegram, method: &str, p: &Map<String, Value>) -> Outcome {
    let bad = |d: &str| Err((400, format!("Bad Request: {d}"), None));
    match method {
        "getme" => Ok(bot_user()),
        "sendmessage" | "editmessagetext" => {
            let text = p.get("text").and_then(Value::as_str).unwrap_or("");
            if text.is_empty() {
                return bad("message text is empty");
            }
            if text.encode_utf16().count() > 4096 {
                return bad("message is too long");
            }
            message(tg, p, json!({"text": text}))
        }
        "sendphoto" => {
            let file = match p.get("photo") {
                Some(Value::String(id)) => tg.rules.lock().unwrap().file(id).unwrap_or_default(),
                Some(file) => file.clone(),
                None => return bad("there is no photo in the request"),
            };
            let (w, h) = file["path"]
                .as_str()
                .and_then(|path| image::image_dimensions(path).ok())
                .unwrap_or((0, 0));
            let size = file["size"].as_u64().unwrap_or(0);
            let file_id = format!("photo-{}", uuid::Uuid::new_v4().simple());
            tg.rules
                .lock()
                .unwrap()
                .remember_file(file_id.clone(), file.clone());
            let photo = json!([{"file_id": file_id, "file_unique_id": "u", "width": w, "height": h, "file_size": size}]);
            message(
                tg,
                p,
                json!({"photo": photo, "caption": p.get("caption").cloned().unwrap_or(Value::Null)}),
            )
        }
        "senddocument" => {
            let Some(file) = p.get("document").filter(|f| f.is_object()) else {
                return bad("there is no document in the request");
            };
            if file["size"].as_u64().unwrap_or(0) > 50 << 20 {
                return Err((413, "Request Entity Too Large".into(), None));
            }
            let doc = json!({"file_id": format!("doc{}", p.len()), "file_unique_id": "d",
                             "file_name": file["file_name"], "file_size": file["size"]});
            message(
                tg,
                p,
                json!({"document": doc, "caption": p.get("caption").cloned().unwrap_or(Value::Null)}),
            )
        }
        "sendvoice" => super::voice::send(tg, p, "voice").and_then(|v| message(tg, p, v)),
        "sendaudio" => super::voice::send(tg, p, "audio").and_then(|v| message(tg, p, v)),
        "getfile" => super::voice::get_file(tg, p),
        "setwebhook" => {
            let url = p
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let secret = p
                .get("secret_token")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            *tg.webhook.lock().unwrap() = (!url.is_empty()).then_some(Webhook { url, secret });
            Ok(Value::Bool(true))
        }
        "deletewebhook" => {
            *tg.webhook.lock().unwrap() = None;
            Ok(Value::Bool(true))
        }
        "answercallbackquery"
        | "sendchataction"
        | "setmycommands"
        | "deletemessage"
        | "editmessagereplymarkup" => Ok(Value::Bool(true)),
        _ => Err((404, "Not Found: method not found".into(), None)),
    }
}

fn message(tg: &Telegram, p: &Map<String, Value>, mut content: Value) -> Outcome {
    let Some(chat_id) = p
        .get("chat_id")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
    else {
        return Err((400, "Bad Request: chat_id is empty".into(), None));
    };
    let id = match p.get("message_id").and_then(Value::as_i64) {
        Some(id) => id,
        None => tg.next_message_id.fetch_add(1, Ordering::Relaxed),
    };
    let obj = content.as_object_mut().expect("object");
    obj.insert("message_id".into(), json!(id));
    obj.insert("date".into(), json!(chrono::Utc::now().timestamp()));
    obj.insert(
        "chat".into(),
        json!({"id": chat_id, "type": "private", "first_name": "User"}),
    );
    obj.insert("from".into(), bot_user());
    if let Some(m) = p.get("reply_markup") {
        obj.insert("reply_markup".into(), m.clone());
    }
    Ok(content)
}

async fn get_updates(tg: &Telegram, p: &Map<String, Value>) -> Response {
    let offset = p.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let timeout = p
        .get("timeout")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(25);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let ready: Vec<Value> = {
            let mut q = tg.pending.lock().unwrap();
            q.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            q.iter().take(100).cloned().collect()
        };
        if !ready.is_empty() || tokio::time::Instant::now() >= deadline {
            return Json(json!({"ok": true, "result": ready})).into_response();
        }
        let _ = tokio::time::timeout_at(deadline, tg.changed.notified()).await;
    }
}

/// `GET /_calls?since=N`: recorded calls from position N.
pub async fn calls(
    State(tg): State<Arc<Telegram>>,
    Query(q): Query<std::collections::HashMap<String, usize>>,
) -> Json<Vec<Call>> {
    let since = q.get("since").copied().unwrap_or(0);
    Json(tg.calls().into_iter().skip(since).collect())
}

/// `POST /_fail`: the next call of a method fails as described.
pub async fn fail(State(tg): State<Arc<Telegram>>, Json(f): Json<Failure>) -> StatusCode {
    tg.fail_next(f);
    StatusCode::NO_CONTENT
}

/// `POST /_deliver`: an update from a simulated user; `update_id` is assigned when missing.
pub async fn deliver(
    State(tg): State<Arc<Telegram>>,
    Json(mut update): Json<Value>,
) -> Json<Value> {
    if update.get("update_id").is_none() {
        update["update_id"] = json!(tg.next_update_id());
    }
    let status = tg.deliver(update.clone()).await;
    Json(json!({"update_id": update["update_id"], "status": status}))
}
