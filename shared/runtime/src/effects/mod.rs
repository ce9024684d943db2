//! Decide, commit, then act. A handler collects what its decision implies — messages, photos,
//! callback answers, jobs for other stages — in a [`Decision`], and [`Decision::commit`] writes
//! them into the handler's own transaction and commits it. Only the [`Committed`] value that
//! returns can be handed to [`Outbox::publish`], so nothing leaves the process while a
//! transaction is open: that is the shape of the code, not a habit. Bot API calls are rows of
//! `effects`, sent by fn-send (the only function holding a Telegram client) and marked done
//! there; jobs are rows of `outbox`, published after the commit and swept up by fn-send when a
//! crash came between the commit and the publish.

pub mod outbox;
pub mod schedule;

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};

pub use crate::effects::outbox::{Committed, Outbox};
use uuid::Uuid;

use crate::envelope::Envelope;
use crate::telegram::{ButtonRow, keyboard};
use crate::telemetry::hops::{self, Part};

mod params;
mod sql;
mod voice;
pub use params::{ABOUT_USER, AVATAR_OF, BULK, EDIT_OF, ERASURE, FINAL, OR_SEND, OURS};
pub use sql::GatedQuery;
use sql::{bind_rows, insert_sql};

/// A job to publish, as stored in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxJob {
    /// Job id (also its `Nats-Msg-Id`).
    pub job_id: Uuid,
    /// Subject to publish on.
    pub subject: String,
    /// Serialized envelope.
    pub payload: Vec<u8>,
}

struct NewEffect {
    id: Uuid,
    chat_id: i64,
    method: &'static str,
    params: Value,
    blob: Option<Vec<u8>>,
    visible: bool,
    notice: bool,
}

/// Everything one handler run decided, not yet written.
pub struct Decision {
    source: String,
    trace_id: String,
    effects: Vec<NewEffect>,
    jobs: Vec<OutboxJob>,
    completes: Option<Uuid>,
}

impl Decision {
    /// A decision made while handling `source` (`upd-<id>` or a job id), traced as `trace_id`.
    pub fn new(source: impl Into<String>, trace_id: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            trace_id: trace_id.into(),
            effects: Vec::new(),
            jobs: Vec::new(),
            completes: None,
        }
    }

    /// Once everything decided here is sent, job `id` is COMPLETED.
    pub fn completes(&mut self, id: Uuid) {
        self.completes = Some(id);
    }

    fn push(&mut self, chat_id: i64, method: &'static str, params: Value, visible: bool) -> Uuid {
        self.push_as(Uuid::new_v4(), chat_id, method, params, visible)
    }

    fn push_as(
        &mut self,
        id: Uuid,
        chat_id: i64,
        method: &'static str,
        params: Value,
        visible: bool,
    ) -> Uuid {
        self.effects.push(NewEffect {
            id,
            chat_id,
            method,
            params,
            blob: None,
            visible,
            notice: false,
        });
        id
    }

    /// A text message, with inline buttons when `buttons` is not empty.
    pub fn text(&mut self, chat_id: i64, text: &str, buttons: &[ButtonRow]) -> Uuid {
        self.text_as(Uuid::new_v4(), chat_id, text, buttons)
    }

    /// A text message whose effect id is chosen by the caller (derived from a job, so a
    /// redelivery writes the same row, which is then kept as it is).
    pub fn text_as(&mut self, id: Uuid, chat_id: i64, text: &str, buttons: &[ButtonRow]) -> Uuid {
        self.push_as(
            id,
            chat_id,
            "sendMessage",
            text_params(chat_id, text, buttons),
            true,
        )
    }

    /// The text in message `shown` (edited in place, when the user pressed a button under it)
    /// or in a new message.
    pub fn text_in(&mut self, chat_id: i64, shown: Option<i64>, text: &str, buttons: &[ButtonRow]) {
        match shown {
            Some(message_id) => self.edit_text(chat_id, message_id, text, buttons),
            None => {
                self.text(chat_id, text, buttons);
            }
        }
    }

    /// Replaces the text and buttons of message `message_id` (sent earlier) in place.
    pub fn edit_text(&mut self, chat_id: i64, message_id: i64, text: &str, buttons: &[ButtonRow]) {
        let mut params = text_params(chat_id, text, buttons);
        params["message_id"] = json!(message_id);
        self.push(chat_id, "editMessageText", params, true);
    }

    /// A message telling the user something failed (never itself followed by another notice).
    pub fn notice(&mut self, chat_id: i64, text: &str, buttons: &[ButtonRow]) {
        self.text(chat_id, text, buttons);
        if let Some(last) = self.effects.last_mut() {
            last.notice = true;
        }
    }

    /// A PNG photo with a caption and buttons.
    pub fn photo(
        &mut self,
        chat_id: i64,
        png: Vec<u8>,
        caption: &str,
        buttons: &[ButtonRow],
    ) -> Uuid {
        let mut params = with_buttons(json!({"chat_id": chat_id}), buttons);
        if !caption.is_empty() {
            params["caption"] = json!(caption);
        }
        let id = self.push(chat_id, "sendPhoto", params, true);
        if let Some(last) = self.effects.last_mut() {
            last.blob = Some(png);
        }
        id
    }

    /// A file (`sendDocument`) named `file_name`, with an optional caption. The name rides in
    /// the stored call's `document` field, where fn-send puts the upload itself.
    pub fn document(&mut self, chat_id: i64, bytes: Vec<u8>, file_name: &str, caption: &str) {
        let mut params = json!({"chat_id": chat_id, "document": file_name});
        if !caption.is_empty() {
            params["caption"] = json!(caption);
        }
        self.push(chat_id, "sendDocument", params, true);
        if let Some(last) = self.effects.last_mut() {
            last.blob = Some(bytes);
        }
    }

    /// Makes the last message a reply to Telegram message `message_id` (sent all the same if
    /// that message is gone).
    pub fn replying_to(&mut self, message_id: Option<i64>) {
        if let (Some(id), Some(last)) = (message_id, self.effects.last_mut()) {
            last.params["reply_parameters"] =
                json!({"message_id": id, "allow_sending_without_reply": true});
        }
    }

    /// A photo Telegram already has (by `file_id`), with a caption and buttons.
    pub fn photo_by_id(
        &mut self,
        chat_id: i64,
        file_id: &str,
        caption: &str,
        buttons: &[ButtonRow],
    ) {
        let params = json!({"chat_id": chat_id, "photo": file_id, "caption": caption});
        self.push(chat_id, "sendPhoto", with_buttons(params, buttons), true);
    }

    /// Stops the progress bar on a pressed button, optionally with a short toast.
    pub fn answer_callback(&mut self, chat_id: i64, callback_id: &str, text: Option<&str>) {
        let mut params = json!({"callback_query_id": callback_id});
        if let Some(t) = text {
            params["text"] = json!(t);
        }
        self.push(chat_id, "answerCallbackQuery", params, false);
    }

    /// A Bot API call about the bot itself (not a chat), such as `setMyCommands`.
    pub fn bot_call(&mut self, method: &'static str, params: Value) {
        self.push(0, method, params, false);
    }

    /// A job for another stage, published after the commit.
    pub fn job<T: Serialize>(&mut self, subject: &str, env: &Envelope<T>) {
        self.jobs.push(OutboxJob {
            job_id: env.id,
            subject: subject.to_owned(),
            payload: serde_json::to_vec(env).expect("jobs serialize"),
        });
    }

    /// Writes the effects and jobs into `tx`, commits it, and returns what to publish.
    pub async fn commit(self, mut tx: Transaction<'_, Postgres>) -> Result<Committed, sqlx::Error> {
        let source = self.source.clone();
        let rows = self.rows();
        hops::part(Part::Commit, async {
            if !rows.is_empty() {
                let sql = AssertSqlSafe(insert_sql(None));
                bind_rows(sqlx::query_as::<_, (i32,)>(sql), &rows, &source)
                    .fetch_one(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
        .await?;
        Ok(Committed {
            jobs: rows.jobs,
            source,
        })
    }

    /// Writes the decision together with the caller's own write, in one statement (one round
    /// trip, atomic without a transaction): `gate` is a data-modifying query (an
    /// `INSERT … ON CONFLICT DO NOTHING RETURNING …`, say) whose parameters are numbered from
    /// `$12` and bound by `bind`; the effects and jobs are written only when it returns a row.
    /// Returns that row and what to publish, or `None` when the gate wrote nothing.
    pub async fn commit_gated<T>(
        self,
        pool: &PgPool,
        gate: &'static str,
        bind: impl for<'q> FnOnce(GatedQuery<'q, T>) -> GatedQuery<'q, T>,
    ) -> sqlx::Result<Option<(T, Committed)>>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        self.commit_gated_also(pool, (gate, None), bind).await
    }

    /// [`Decision::commit_gated`] with a second write of the caller's in the same statement
    /// (`also`, after the gate: it reads the CTE `gate`, so it writes only what the gate let
    /// through; same parameters). What the gate returns is returned.
    pub async fn commit_gated_also<T>(
        self,
        pool: &PgPool,
        (gate, also): (&'static str, Option<&'static str>),
        bind: impl for<'q> FnOnce(GatedQuery<'q, T>) -> GatedQuery<'q, T>,
    ) -> sqlx::Result<Option<(T, Committed)>>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        let source = self.source.clone();
        let rows = self.rows();
        // Built from this file's text and the caller's constants: no input reaches the SQL.
        let sql = AssertSqlSafe(insert_sql(Some((gate, also))));
        let query = bind_rows(sqlx::query_as::<_, T>(sql), &rows, &source);
        let row = hops::part(Part::Commit, bind(query).fetch_optional(pool)).await?;
        Ok(row.map(|row| {
            (
                row,
                Committed {
                    jobs: rows.jobs,
                    source,
                },
            )
        }))
    }
}

fn text_params(chat_id: i64, text: &str, buttons: &[ButtonRow]) -> Value {
    with_buttons(json!({"chat_id": chat_id, "text": text}), buttons)
}

/// `params` with the inline keyboard of `buttons`, when there are any.
fn with_buttons(mut params: Value, buttons: &[ButtonRow]) -> Value {
    if !buttons.is_empty() {
        params["reply_markup"] = keyboard(buttons);
    }
    params
}
