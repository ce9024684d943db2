//! A simulated user driving the bot through the webhook, and small assertions.

use std::time::Duration;

use serde_json::Value;
use standins::system::{System, buttons_of, shows_text, text_of};
use standins::telegram::Call;
use standins::updates::{self, User};

/// How long a step of a conversation may take (generous: shared 2-core machines).
pub const STEP: Duration = Duration::from_secs(30);

/// A user chatting with the bot.
pub struct Chat<'a> {
    /// The system under test.
    pub sys: &'a System,
    /// Who is typing.
    pub user: User,
    next_message: std::cell::Cell<i64>,
}

impl<'a> Chat<'a> {
    /// A user with id `id`.
    pub fn new(sys: &'a System, id: i64) -> Self {
        Self::as_user(sys, User::new(id, "Ann"))
    }

    /// A chat with `user`.
    pub fn as_user(sys: &'a System, user: User) -> Self {
        Self {
            sys,
            user,
            next_message: std::cell::Cell::new(1),
        }
    }

    fn message_id(&self) -> i64 {
        let id = self.next_message.get();
        self.next_message.set(id + 1);
        id
    }

    /// Sends a text through the webhook; returns the update. As Telegram does, a delivery the
    /// webhook fails (5xx, or no answer: a broker failing over) is sent again, with back-off.
    pub async fn say(&self, text: &str) -> Value {
        let u = updates::text(
            self.sys.tg.next_update_id(),
            self.message_id(),
            &self.user,
            text,
        );
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(250);
        loop {
            let status = self.sys.post_update(&u).await;
            if status == 200 {
                return u;
            }
            let retried = status == 0 || status >= 500;
            assert!(
                retried && started.elapsed() < STEP,
                "webhook refused {u}: {status}"
            );
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(4));
        }
    }

    /// Edits the user's earlier text message `message_id` (from the update [`Chat::say`] returned).
    pub async fn edit(&self, message_id: i64, text: &str) {
        let u = updates::edited(self.sys.tg.next_update_id(), message_id, &self.user, text);
        assert_eq!(self.sys.post_update(&u).await, 200, "webhook refused {u}");
    }

    /// Waits for any call to this chat (from log position `since`) matching `pred`.
    pub async fn expect_call(&self, since: usize, pred: impl Fn(&Call) -> bool) -> Call {
        let chat = self.user.id;
        self.sys
            .wait_call(since, STEP, |c| {
                (c.params["chat_id"] == chat || c.method == "answercallbackquery")
                    && delivered(c)
                    && pred(c)
            })
            .await
            .expect("expected call")
    }

    /// Says `text` and waits for a message matching `pred` after it.
    pub async fn ask(&self, text: &str, pred: impl Fn(&Call) -> bool) -> Call {
        let since = self.sys.tg.calls().len();
        self.say(text).await;
        self.expect_message(since, pred).await
    }

    /// Says `text` and waits for the LLM stand-in's usual answer to it; returns that message.
    pub async fn turn(&self, text: &str) -> Call {
        let want = standins::llm::answer_for(text);
        self.ask(text, |c| text_of(c) == want).await
    }

    /// Says `text` while the model streams `content` a word every `chunk_ms`; returns the log
    /// position before it and the draft (the message with ⏹) once it is shown.
    pub async fn slow_answer(&self, text: &str, content: &str, chunk_ms: u64) -> (usize, Call) {
        self.sys.llm.push(vec![standins::script::Step {
            content: Some(content.to_owned()),
            chunk_ms,
            ..Default::default()
        }]);
        let since = self.sys.tg.calls().len();
        self.say(text).await;
        let draft = self
            .expect_message(since, |c| {
                buttons_of(c).iter().any(|b| b.starts_with("stop:"))
            })
            .await;
        (since, draft)
    }

    /// Presses a button under the bot's message.
    pub async fn press(&self, under: &Call, data: &str) {
        let message_id = under.result["message_id"].as_i64().unwrap_or(1);
        let u = updates::callback(self.sys.tg.next_update_id(), &self.user, message_id, data);
        assert_eq!(self.sys.post_update(&u).await, 200);
    }

    /// Waits for a message to this chat (from log position `since`) matching `pred`: sent, or
    /// edited into it (a streamed answer's final text arrives as an edit of its draft).
    pub async fn expect_message(&self, since: usize, pred: impl Fn(&Call) -> bool) -> Call {
        let chat = self.user.id;
        self.sys
            .wait_call(since, STEP, |c| {
                shows_text(c) && c.params["chat_id"] == chat && delivered(c) && pred(c)
            })
            .await
            .expect("expected message")
    }

    /// Walks `/start` → age confirmation → first persona; returns the greeting call.
    pub async fn open_dialog(&self) -> Call {
        let since = self.sys.tg.calls().len();
        self.say("/start").await;
        let gate = self
            .expect_message(since, |c| buttons_of(c).contains(&"age:yes".to_owned()))
            .await;
        let since = self.sys.tg.calls().len();
        self.press(&gate, "age:yes").await;
        let menu = self
            .expect_message(since, |c| {
                buttons_of(c).iter().any(|b| b.starts_with("persona:"))
            })
            .await;
        let first = buttons_of(&menu).into_iter().next().unwrap();
        let since = self.sys.tg.calls().len();
        self.press(&menu, &first).await;
        self.expect_message(since, |c| {
            buttons_of(c).iter().any(|b| b.starts_with("photo:"))
        })
        .await
    }

    /// Messages sent to this chat whose text is exactly `text`.
    pub fn count_text(&self, text: &str) -> usize {
        self.sys
            .tg
            .calls()
            .iter()
            .filter(|c| {
                shows_text(c)
                    && c.params["chat_id"] == self.user.id
                    && delivered(c)
                    && text_of(c) == text
            })
            .count()
    }
}

/// Starts a copy of fn-reply behind the HTTP runner (`RUNNER=http`); returns its `/invoke` URL.
pub async fn http_reply_copy(sys: &System) -> String {
    let addr = format!("127.0.0.1:{}", standins::harness::free_port());
    sys.start_copy(
        "fn-reply",
        "fn-reply-http",
        &[("RUNNER", "http"), ("HTTP_ADDR", &addr)],
    )
    .await
    .unwrap();
    format!("http://{addr}/invoke")
}

/// The `X-Companion-Signature` a bridge would send with `body` to `stage`'s `/invoke` at
/// delivery `delivered`: a fresh request id, signed now with the test secret.
pub fn invoke_signature(stage: &str, delivered: i64, body: &[u8]) -> String {
    let id = runtime::runner::new_id();
    let signed = runtime::runner::Signed {
        stage,
        delivered,
        id: &id,
        t: chrono::Utc::now().timestamp(),
    };
    runtime::runner::sign(standins::system::INVOKE_SECRET.as_bytes(), &signed, body)
}

/// A user message stored in `chat`'s open dialog as fn-updates would store it, and the reply
/// job (traced as `trace`) that answers it: for feeding a stage directly.
pub async fn reply_job_for(
    chat: &Chat<'_>,
    text: &str,
    trace: &str,
) -> runtime::envelope::Envelope<companion::jobs::ReplyJob> {
    let pool = chat.sys.pool().await.unwrap();
    let dialog_id: i64 = sqlx::query_scalar("SELECT id FROM dialogs WHERE user_id = $1")
        .bind(chat.user.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let message_id: i64 = sqlx::query_scalar(
        "INSERT INTO chat_messages (dialog_id, role, content) VALUES ($1, 'user', $2) RETURNING id",
    )
    .bind(dialog_id)
    .bind(text)
    .fetch_one(&pool)
    .await
    .unwrap();
    runtime::envelope::Envelope::new(
        trace,
        companion::jobs::ReplyJob {
            chat_id: chat.user.id,
            user_id: chat.user.id,
            dialog_id,
            user_message_id: message_id,
            ..Default::default()
        },
    )
}

/// Publishes a send job for `effects` (rows already in `effects`) to fn-send's subject.
pub async fn send_effects(sys: &System, chat_id: i64, effects: Vec<uuid::Uuid>) {
    let job = runtime::envelope::SendJob {
        chat_id,
        effects,
        ..Default::default()
    };
    send_job(sys, job).await;
}

/// Publishes `job` to fn-send's subject, as a stage would after its commit.
pub async fn send_job(sys: &System, job: runtime::envelope::SendJob) {
    let job = runtime::envelope::Envelope::new("test", job);
    let js = sys.js().await.unwrap();
    let payload = serde_json::to_vec(&job).unwrap();
    js.publish(runtime::nats::topology::SEND_SUBJECT, payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// Whether Telegram accepted the call (refused calls are recorded with a null result).
pub fn delivered(c: &Call) -> bool {
    !c.result.is_null()
}

/// The last sequence number of a stream (how many messages were ever stored).
pub async fn last_seq(sys: &System, stream: &str) -> u64 {
    let js = sys.js().await.unwrap();
    let mut s = js.get_stream(stream).await.unwrap();
    s.info().await.unwrap().state.last_sequence
}

/// Waits until every stage has nothing pending and nothing in flight, so an assertion that
/// something did *not* happen is made after it had every chance to happen.
pub async fn settle(sys: &System) {
    settle_within(sys, STEP).await;
}

/// [`settle`], waiting up to `limit` (a flood's paced sends take longer than a step).
pub async fn settle_within(sys: &System, limit: Duration) {
    sys.settle(limit).await.expect("pipeline settles");
}

/// GET `url`: its status (0 when nothing answered) and body.
pub async fn get(url: &str) -> (u16, String) {
    match reqwest::get(url).await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

/// The value of the sample of `name` whose labels include every one of `labels`.
pub fn sample(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && labels.iter().all(|x| l.contains(x)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}
