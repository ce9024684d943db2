//! What the Telegram stand-in refuses, as Telegram does and in its words: a wrong token (401),
//! an unknown chat ("chat not found"), a user who blocked the bot (403), empty or too long
//! texts and captions, `callback_data` over 64 bytes, edits of unknown messages or with the
//! same content ("message is not modified"), answers to unknown callback queries, photos over
//! 10 MB or with impossible dimensions, and — when asked — per-chat 429s once a chat gets more
//! than about one message a second (a burst of a few allowed), or a chat whose calls hang.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::refusal::{Refusal, bad};

/// The stand-in's memory of chats, messages and callback queries.
#[derive(Default)]
pub struct Rules {
    /// The token calls must carry (`None`: any).
    pub token: Option<String>,
    chats: HashSet<i64>,
    blocked: HashSet<i64>,
    callbacks: HashSet<String>,
    /// Each sent message's text (or caption) and buttons, for later edits.
    messages: HashMap<(i64, i64), (String, Value)>,
    /// Per-chat flood control on (`Some(per second, burst)`).
    pub flood: Option<(f64, usize)>,
    sends: HashMap<i64, VecDeque<Instant>>,
    /// Calls for these chats hang this long before answering.
    pub hang: HashMap<i64, Duration>,
    /// Files sent so far, by the `file_id` Telegram gave them (sent again by id).
    files: HashMap<String, Value>,
}

fn chat_of(p: &Map<String, Value>) -> Option<i64> {
    p.get("chat_id")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
}

impl Rules {
    /// Remembers what an update delivered to the bot shows: its chat, its callback query.
    pub fn saw_update(&mut self, update: &Value) {
        let paths: [&[&str]; 4] = [
            &["message", "chat", "id"],
            &["edited_message", "chat", "id"],
            &["callback_query", "message", "chat", "id"],
            &["callback_query", "from", "id"],
        ];
        for path in paths {
            if let Some(id) = path
                .iter()
                .try_fold(update, |v, k| v.get(k))
                .and_then(Value::as_i64)
            {
                self.chats.insert(id);
            }
        }
        if let Some(id) = update["callback_query"]["id"].as_str() {
            self.callbacks.insert(id.to_owned());
        }
    }

    /// The user blocks (`true`) or unblocks the bot.
    pub fn block(&mut self, chat: i64, blocked: bool) {
        if blocked {
            self.blocked.insert(chat);
        } else {
            self.blocked.remove(&chat);
        }
    }

    /// The chat disappears (deleted account).
    pub fn forget(&mut self, chat: i64) {
        self.chats.remove(&chat);
    }

    /// The file a `file_id` stands for.
    pub fn file(&self, id: &str) -> Option<Value> {
        self.files.get(id).cloned()
    }

    /// Remembers a sent file under the `file_id` given for it.
    pub fn remember_file(&mut self, id: String, file: Value) {
        self.files.insert(id, file);
    }

    /// Checks the token part of `/bot<token>/…`.
    pub fn token_ok(&self, bot: &str) -> bool {
        self.token
            .as_deref()
            .is_none_or(|t| bot.strip_prefix("bot") == Some(t))
    }

    /// Refuses what Telegram refuses; `Ok` lets the call through.
    pub fn check(&mut self, method: &str, p: &Map<String, Value>) -> Result<(), Refusal> {
        super::strict::check(method, p)?;
        let sends = matches!(
            method,
            "sendmessage" | "sendphoto" | "senddocument" | "sendvoice" | "sendaudio"
        );
        let edits = matches!(method, "editmessagetext" | "editmessagereplymarkup");
        if sends || edits || method == "sendchataction" {
            let Some(chat) = chat_of(p) else {
                return Err(bad("chat_id is empty"));
            };
            if !self.chats.contains(&chat) {
                return Err(bad("chat not found"));
            }
            if self.blocked.contains(&chat) {
                return Err((403, "Forbidden: bot was blocked by the user".into(), None));
            }
            if sends {
                self.flood(chat)?;
            }
        }
        keyboard(p)?;
        match method {
            "sendmessage" => text(p, "text", 4096, "message is too long"),
            "sendphoto" => {
                let caption = p.get("caption").and_then(Value::as_str).unwrap_or("");
                if caption.encode_utf16().count() > 1024 {
                    return Err(bad("message caption is too long"));
                }
                let file = match p.get("photo") {
                    Some(Value::String(id)) => match self.files.get(id) {
                        Some(file) => file.clone(),
                        None => return Err(bad("wrong file identifier/HTTP URL specified")),
                    },
                    Some(file) => file.clone(),
                    None => return Err(bad("there is no photo in the request")),
                };
                photo(&file)
            }
            "editmessagetext" => {
                text(p, "text", 4096, "message is too long")?;
                self.edit(p)
            }
            "answercallbackquery" => {
                let id = p
                    .get("callback_query_id")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if self.callbacks.remove(id) {
                    Ok(())
                } else {
                    Err(bad(
                        "query is too old and response timeout expired or query ID is invalid",
                    ))
                }
            }
            _ => Ok(()),
        }
    }

    /// The user deletes message `message_id` of `chat`: it can no longer be edited.
    pub fn delete_message(&mut self, chat: i64, message_id: i64) {
        self.messages.remove(&(chat, message_id));
    }

    /// Remembers a sent (or edited) message's text and buttons, for later edits.
    pub fn sent(&mut self, chat: i64, message_id: i64, text: &str, markup: &Value) {
        let markup = markup.clone();
        self.messages
            .insert((chat, message_id), (text.to_owned(), markup));
    }

    fn edit(&mut self, p: &Map<String, Value>) -> Result<(), Refusal> {
        let chat = chat_of(p).unwrap_or(0);
        let id = p.get("message_id").and_then(Value::as_i64).unwrap_or(0);
        let new = p.get("text").and_then(Value::as_str).unwrap_or("");
        let markup = p.get("reply_markup").cloned().unwrap_or(Value::Null);
        // Not modified only when both the text and the buttons stay as they are.
        match self.messages.get(&(chat, id)) {
            None => Err(bad("message to edit not found")),
            Some((old, buttons)) if old == new && *buttons == markup => Err(bad(
                "message is not modified: specified new message content and reply markup are \
                 exactly the same as a current content and reply markup of the message",
            )),
            Some(_) => Ok(()),
        }
    }

    fn flood(&mut self, chat: i64) -> Result<(), Refusal> {
        let Some((per_sec, burst)) = self.flood else {
            return Ok(());
        };
        let window = Duration::from_secs_f64(burst as f64 / per_sec);
        let now = Instant::now();
        let q = self.sends.entry(chat).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) > window) {
            q.pop_front();
        }
        if q.len() >= burst {
            let wait = window
                .saturating_sub(now.duration_since(q[0]))
                .as_secs()
                .max(1);
            return Err((
                429,
                format!("Too Many Requests: retry after {wait}"),
                Some(wait),
            ));
        }
        q.push_back(now);
        Ok(())
    }
}

fn text(p: &Map<String, Value>, key: &str, max: usize, too_long: &str) -> Result<(), Refusal> {
    let t = p.get(key).and_then(Value::as_str).unwrap_or("");
    if t.trim().is_empty() {
        return Err(bad("message text is empty"));
    }
    // Telegram measures texts in UTF-16 code units (an emoji is two).
    if t.encode_utf16().count() > max {
        return Err(bad(too_long));
    }
    Ok(())
}

fn keyboard(p: &Map<String, Value>) -> Result<(), Refusal> {
    let rows = p
        .get("reply_markup")
        .and_then(|m| m["inline_keyboard"].as_array());
    let too_long = rows
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|b| b["callback_data"].as_str().is_some_and(|d| d.len() > 64));
    if too_long {
        return Err(bad("BUTTON_DATA_INVALID"));
    }
    Ok(())
}

fn photo(file: &Value) -> Result<(), Refusal> {
    if file["size"].as_u64().unwrap_or(0) > 10 * 1024 * 1024 {
        return Err(bad("PHOTO_INVALID_DIMENSIONS"));
    }
    let dims = file["path"]
        .as_str()
        .and_then(|path| image::image_dimensions(path).ok());
    match dims {
        None => Err(bad("IMAGE_PROCESS_FAILED")),
        Some((w, h)) if w + h > 10_000 || w.max(h) > 20 * w.min(h).max(1) => {
            Err(bad("PHOTO_INVALID_DIMENSIONS"))
        }
        Some(_) => Ok(()),
    }
}
