//! Writing an answer: the model's messages, the LLM call with "typing…" kept on, the stream
//! shown as it comes (a draft message edited at most every `STREAM_EDIT_SECS`, with ⏹), one
//! more try when the answer repeats a recent one, and the commits — a new answer with the
//! messages carrying it, or another version of an existing answer edited in place.

use std::time::Duration;

use companion::jobs::{Regenerate, ReplyJob};
use companion::ui::keyboards::{Under, stop_button};
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::REPLY_SUBJECT;
use tokio::time::{Instant, interval_at};
use uuid::Uuid;

use crate::answer::{finish, showable};
use crate::context::{self, Prompt, TELEGRAM_TEXT_LIMIT, to_messages};
use crate::guard::Guard;
use crate::llm::{ChatMessage, LlmError};
use crate::store::{self, Version};
use crate::{Reply, similar};

/// How often "typing…" is shown again while the model works (Telegram shows it ~5 s).
const TYPING_EVERY: Duration = Duration::from_secs(5);
/// Shown after the text while it is still being written.
const CURSOR: &str = " ▌";

/// The effect id of the message an answer streams into: derived from the job, so a
/// redelivered job streams into the same message.
fn draft_id(job: Uuid) -> Uuid {
    Uuid::from_u128(job.as_u128() ^ 0x5354_5245_414d)
}

/// The effect id of an answer's final text in its draft: derived from the job too, so a
/// streaming step can name it and is dropped once it exists.
fn final_id(job: Uuid) -> Uuid {
    Uuid::from_u128(job.as_u128() ^ 0x4649_4e41_4c00)
}

/// An answer as written.
struct Written {
    text: String,
    /// It was shown while streaming (in the draft message).
    drafted: bool,
}

impl Reply {
    /// A new answer: streamed, then committed with the messages that carry it.
    pub(crate) async fn answer(
        &self,
        env: &Envelope<ReplyJob>,
        prompt: Prompt,
        (guard, refusal): (&Guard, Option<String>),
        in_voice: bool,
    ) -> Result<(), HandlerError> {
        let job = &env.payload;
        // The nudge question never goes under a refusal.
        let offered = prompt.offer_nudge.filter(|_| refusal.is_none());
        let due = (prompt.summary_due, prompt.memory_due);
        let w = match refusal {
            Some(text) => Written {
                text,
                drafted: false,
            },
            None => {
                self.write(env, prompt.messages, self.stream_every, guard)
                    .await?
            }
        };
        let source = env.id.to_string();
        let mut d = Decision::new(source.clone(), env.trace_id.clone());
        crate::follow::follow_ups(&mut d, env, due, in_voice);
        let parts = context::split(&w.text, TELEGRAM_TEXT_LIMIT);
        let rows = Under {
            speak: self.tts.is_some(),
            ..Under::plain(job.dialog_id, Some(job.user_message_id))
        }
        .rows(job.lang);
        // The first part always goes to the draft: this run may not have shown one, but an
        // earlier run of the same job (killed mid-stream) may have, and its partial text must
        // not stay beside the answer. Without a draft, fn-send sends it as a new message.
        let draft = draft_id(env.id);
        let mut carrier = draft;
        for (i, part) in parts.iter().enumerate() {
            let buttons = if i + 1 == parts.len() { &rows[..] } else { &[] };
            carrier = if i == 0 {
                let edit =
                    d.edit_sent_as(final_id(env.id), job.chat_id, draft, part, buttons, true);
                if w.drafted { draft } else { edit }
            } else {
                d.text(job.chat_id, part, buttons)
            };
        }
        if let Some(girl) = offered {
            crate::nudge::offer(&mut d, job, girl, &guard.persona);
        }
        d.completes(env.id);
        let stored = (w.text.as_str(), carrier, offered);
        match store::answer(&self.deps.pool, env.id, job, stored, d).await? {
            Some(committed) => self.deps.outbox.publish(committed).await,
            // A copy that raced us stored its answer first: that one is sent.
            None => self.deps.outbox.republish(&source).await,
        }
    }

    /// Another version of an answer, edited into the message that shows it.
    pub(crate) async fn regenerate(
        &self,
        env: &Envelope<ReplyJob>,
        r: &Regenerate,
        mut versions: i32,
        messages: Vec<ChatMessage>,
        (guard, refusal): (&Guard, Option<String>),
        in_voice: bool,
    ) -> Result<(), HandlerError> {
        let job = &env.payload;
        let written = match refusal {
            Some(text) => text,
            None => self.write(env, messages, None, guard).await?.text,
        };
        let text = context::split(&written, TELEGRAM_TEXT_LIMIT).swap_remove(0);
        let source = env.id.to_string();
        loop {
            let n = i16::try_from((versions + 1).min(store::MAX_VERSIONS)).unwrap_or(i16::MAX);
            let rows = Under {
                message_id: Some(r.answer_id),
                index: n - 1,
                variants: n,
                speak: self.tts.is_some(),
                ..Under::plain(job.dialog_id, Some(job.user_message_id))
            }
            .rows(job.lang);
            let mut d = Decision::new(source.clone(), env.trace_id.clone());
            match (r.shown, r.effect) {
                (Some(message), _) => d.edit_text(job.chat_id, message, &text, &rows),
                (None, Some(effect)) => {
                    d.edit_sent(job.chat_id, effect, &text, &rows, true);
                }
                (None, None) => {
                    d.text(job.chat_id, &text, &rows);
                }
            }
            if in_voice {
                // The new version is heard too, as a first answer would be.
                let speak = companion::jobs::Speak {
                    answer_id: Some(r.answer_id),
                    index: n - 1,
                };
                let job = ReplyJob {
                    speak: Some(speak),
                    ..job.clone()
                };
                d.job(REPLY_SUBJECT, &Envelope::new(env.trace_id.clone(), job));
            }
            d.completes(env.id);
            let pool = &self.deps.pool;
            match store::add_version(pool, env.id, r.answer_id, versions, &text, d).await? {
                Version::Added(committed) => return self.deps.outbox.publish(committed).await,
                Version::Exists => return self.deps.outbox.republish(&source).await,
                Version::Moved => {
                    tracing::info!(job = %env.id, "the dialog moved on; the new version is dropped");
                    return Ok(());
                }
                Version::Count(now) => versions = now,
            }
        }
    }

    /// Asks the model (typing shown meanwhile), streaming into the draft when `stream` is
    /// set; a prompt too long for the model is retried with half the history, an answer too
    /// like a recent one is written once more, warmer, and one the guard refuses once more,
    /// firmer, then replaced by the persona's refusal.
    async fn write(
        &self,
        env: &Envelope<ReplyJob>,
        mut messages: Vec<ChatMessage>,
        stream: Option<Duration>,
        guard: &Guard,
    ) -> Result<Written, HandlerError> {
        let job = &env.payload;
        let outbox = &self.deps.outbox;
        let _typing = outbox.keep_action(
            job.chat_id,
            "typing",
            &env.trace_id,
            (Duration::ZERO, TYPING_EVERY),
        );
        let recent = similar::recent_answers(&messages, 3);
        let mut history = self.history;
        let mut drafted = false;
        let mut hot = false;
        let mut firm = false;
        let written = loop {
            let streamed = self.stream(env, &messages, hot, stream, &mut drafted, guard);
            match streamed.await {
                Err(LlmError::ContextOverflow) if history > 2 => {
                    history /= 2;
                    tracing::warn!(
                        history,
                        "prompt too long for the model; trimming the history"
                    );
                    let answer_id = job.regenerate.as_ref().map(|r| r.answer_id);
                    let sizes = (history, self.memory_every);
                    let begin = store::begin(&self.deps.pool, env.id, job, sizes, answer_id);
                    let b = Box::pin(begin).await?;
                    messages = to_messages(b, job.lang, self.budget, sizes)?.messages;
                }
                Ok((text, _)) if guard.refuses(&text) => {
                    tracing::warn!(job = %env.id, firm, "the model's answer refused by the minor-safety scan");
                    if firm {
                        break Ok(guard.refusal());
                    }
                    firm = true;
                    messages = Guard::firmer(&messages);
                }
                Ok((text, false)) if !hot && similar::repeats(&text, &recent) => {
                    tracing::info!(job = %env.id, "the answer repeats a recent one; writing it again");
                    hot = true;
                }
                Ok((text, _)) => break Ok(text),
                Err(e) => break Err(HandlerError::from(e)),
            }
        };
        Ok(Written {
            text: written?,
            drafted,
        })
    }

    /// One LLM call: the text and whether the user stopped it.
    async fn stream(
        &self,
        env: &Envelope<ReplyJob>,
        messages: &[ChatMessage],
        hot: bool,
        every: Option<Duration>,
        drafted: &mut bool,
        guard: &Guard,
    ) -> Result<(String, bool), LlmError> {
        let mut pieces = self.llm.start(messages, hot).await?;
        let mut text = String::new();
        let mut shown = String::new();
        // Without streaming the tick never fires.
        let period = every.unwrap_or(Duration::from_secs(86_400));
        let mut tick = interval_at(Instant::now() + period, period);
        let mut blocked = false;
        loop {
            // Pieces first: a stream that is already complete (the task was starved) ends
            // without a draft.
            tokio::select! {
                biased;
                piece = pieces.next() => match piece? {
                    Some(p) => text.push_str(&p),
                    None => break,
                },
                _ = tick.tick(), if every.is_some() => {
                    let now = showable(&text);
                    // A draft the guard refuses is not shown, nor any after it.
                    blocked = blocked || guard.refuses(&now);
                    if now.is_empty() || now == shown || blocked {
                        continue;
                    }
                    // Boxed: the commit's state is not carried by every answer in flight.
                    if !Box::pin(self.show(env, &now, *drafted)).await? {
                        // ⏹: what was shown is the answer.
                        return Ok((finish(&now)?, true));
                    }
                    *drafted = true;
                    shown = now;
                }
            }
        }
        Ok((finish(&text)?, false))
    }

    /// Shows the answer so far in the draft (sending it the first time) unless the user
    /// stopped it; `false` when they did.
    async fn show(
        &self,
        env: &Envelope<ReplyJob>,
        text: &str,
        drafted: bool,
    ) -> Result<bool, HandlerError> {
        let job = &env.payload;
        let head = context::split(text, TELEGRAM_TEXT_LIMIT - CURSOR.len()).swap_remove(0);
        let shown = format!("{head}{CURSOR}");
        let buttons = stop_button(job.lang, job.user_message_id);
        let mut d = Decision::new(env.id.to_string(), env.trace_id.clone());
        let draft = draft_id(env.id);
        if drafted {
            d.edit_sent(job.chat_id, draft, &shown, &buttons, false);
        } else {
            d.text_as(draft, job.chat_id, &shown, &buttons);
        }
        // One writer per draft: a step is written only while no final text exists (another
        // delivery of the job may have finished), and fn-send drops one that comes later.
        let last = final_id(env.id);
        d.until_final(last);
        match store::stream_step(&self.deps.pool, job.user_message_id, last, d).await? {
            Some(committed) => {
                self.deps.outbox.publish(committed).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
