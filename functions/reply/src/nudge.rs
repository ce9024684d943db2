//! Nudges: a message schedule fires a nudge job (`ReplyJob::nudge`) once the user has been
//! silent since their last message. It is written only if it still may be — checked here in
//! one statement: the user still allows the persona, Telegram still reaches them, they have not
//! written since, her last nudge was answered, they are under `NUDGES_PER_WEEK`, no minor was
//! brought into the dialog — and checked again by the statement that stores it, since the
//! model takes a while. In their quiet hours it is scheduled again for the hours' end instead.
//! The model writes it in the persona's voice from the dialog's summary and last turns; the
//! minor-safety scan every answer passes drops it; it is stored as an assistant message (keyed
//! by the nudge id, one per (user, last message)) and sent as a bulk message, which fn-send
//! paces bot-wide.

mod store;

use chrono::Utc;
use companion::jobs::ReplyJob;
use companion::locale::{Lang, T, t, tf};
use companion::nudges::{Clock, nudge_id, schedule_id, schedule_key};
use companion::personas::expand_user;
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::effects::{Decision, OutboxJob};
use runtime::envelope::Envelope;
use runtime::nats::topology::{REPLY_SUBJECT, schedule_subject};
use uuid::Uuid;

use crate::Reply;
use crate::answer::finish;
use crate::context::NEUTRAL_NAME;
use crate::llm::ChatMessage;

/// The tokens the remembered facts may take in a nudge's prompt.
const FACTS_BUDGET: usize = 400;

/// What the model is asked, after the persona's own prompt.
const INSTRUCTIONS: &str = "(Out of character: I have been away for a while. Write me one \
short message, one to three sentences, in character, as a text you send first: that you were \
thinking of me, or a question about something I told you. Do not mention being an AI. Answer \
with the message only.)";

/// Why a fired nudge is not written.
fn stopped(f: &store::Fired, per_week: i64) -> Option<&'static str> {
    let reasons = [
        (!f.allowed, "the user turned nudges off"),
        (f.unreachable, "Telegram does not reach the user"),
        (f.spoke, "the user wrote since"),
        (f.unanswered, "her last nudge is unanswered"),
        (f.this_week >= per_week, "the weekly limit is reached"),
        (f.minor_cue, "a minor was brought into the dialog"),
    ];
    reasons
        .into_iter()
        .find(|(stop, _)| *stop)
        .map(|(_, why)| why)
}

/// The question after a few answers: may persona `girl` (named `name`) write first?
pub(crate) fn offer(d: &mut Decision, job: &ReplyJob, girl: i32, name: &str) {
    let lang = job.lang;
    let text = tf(lang, T::NudgeOffer, &[("name", &name)]);
    let press = |on: bool| {
        let label = t(lang, if on { T::NudgeYes } else { T::NudgeNo }).to_owned();
        let settings = false;
        (label, Button::Nudges { girl, on, settings }.encode())
    };
    d.text(job.chat_id, &text, &[vec![press(true), press(false)]]);
}

impl Reply {
    /// Writes (or re-schedules, or drops) a fired nudge.
    pub(crate) async fn nudge(&self, env: &Envelope<ReplyJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        let pool = &self.deps.pool;
        let id = nudge_id(job.user_id, job.user_message_id);
        let Some(f) = store::fired(pool, id, job).await? else {
            tracing::info!(job = %env.id, "nudge: the dialog or the persona is gone");
            return Ok(());
        };
        if f.written {
            return self.deps.outbox.republish(&id.to_string()).await;
        }
        if let Some(why) = stopped(&f, self.nudges.per_week) {
            tracing::info!(job = %env.id, user = job.user_id, why, "nudge not sent");
            return Ok(());
        }
        let clock = Clock {
            offset_min: f
                .tz_offset_min
                .unwrap_or_else(|| Clock::inferred_offset(f.language_code.as_deref())),
            quiet_from: f.quiet_from as u8,
            quiet_to: f.quiet_to as u8,
        };
        let now = Utc::now();
        if clock.is_quiet(now) {
            return self.later(env, clock.next_allowed(now)).await;
        }
        let lang = Lang::for_user(f.lang.as_deref(), f.language_code.as_deref());
        let Some(text) = self.write_nudge(&f, lang).await? else {
            tracing::warn!(job = %env.id, "nudge refused by the minor-safety scan; not sent");
            return Ok(());
        };
        let source = id.to_string();
        let mut d = Decision::new(source.clone(), env.trace_id.clone());
        let effect = Uuid::from_u128(id.as_u128() ^ 0x004e_5544_4745);
        d.text_as(effect, job.chat_id, &text, &[]);
        d.bulk();
        d.completes(env.id);
        let per_week = self.nudges.per_week;
        match store::store(pool, id, job, (&text, effect, per_week), d).await? {
            Some(committed) => {
                tracing::info!(job = %env.id, user = job.user_id, "nudge written");
                self.deps.outbox.publish(committed).await
            }
            // A rule stopped it while the model wrote it (the user wrote, turned nudges off,
            // …), or a copy stored it first: then that copy's sends go out.
            None => {
                tracing::info!(job = %env.id, user = job.user_id, "nudge not stored: stopped meanwhile, or stored before");
                self.deps.outbox.republish(&source).await
            }
        }
    }

    /// Schedules the same nudge again for `at` (the end of the user's quiet hours): the fired
    /// job is published once more by the server then, and checked again.
    async fn later(
        &self,
        env: &Envelope<ReplyJob>,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        tracing::info!(job = %env.id, %at, "nudge in quiet hours; moved to their end");
        let key = Uuid::from_u64_pair(env.id.as_u64_pair().0, at.timestamp() as u64);
        let job = OutboxJob {
            job_id: schedule_id(key),
            subject: schedule_subject(&schedule_key(env.payload.user_id)),
            payload: runtime::effects::schedule::wrap(at, REPLY_SUBJECT, env),
        };
        self.deps.outbox.publish_unstored(vec![job]).await
    }

    /// The nudge in the persona's voice, or `None` when the minor-safety scan refuses it.
    async fn write_nudge(
        &self,
        f: &store::Fired,
        lang: Lang,
    ) -> Result<Option<String>, HandlerError> {
        let safe = companion::content::safety::check(&f.user_name).is_none();
        let user = if safe { &f.user_name } else { NEUTRAL_NAME };
        let system = expand_user(&f.system_prompt, user);
        let mut messages = vec![ChatMessage {
            role: "system".into(),
            content: format!("{system}\n\n{}", t(lang, T::AnswerLanguage)),
        }];
        let summary_safe = companion::content::safety::answer_refusal(&f.summary, false).is_none();
        if !f.summary.is_empty() && summary_safe {
            messages.push(ChatMessage {
                role: "system".into(),
                content: format!("The story so far: {}", f.summary),
            });
        }
        // What she remembers, so she can ask about something they told her.
        let latest = f.turns.0.iter().rev().find(|t| t.0 == "user");
        let latest = latest.map(|t| t.1.as_str()).unwrap_or_default();
        let facts = crate::memory::rank::choose(&f.facts.0, latest, FACTS_BUDGET);
        let memory = crate::memory::rank::block(&facts, user);
        if !memory.is_empty() {
            messages.push(ChatMessage {
                role: "system".into(),
                content: memory,
            });
        }
        for (role, content, _) in &f.turns.0 {
            messages.push(ChatMessage {
                role: role.clone(),
                content: expand_user(content, user),
            });
        }
        // As the user's turn: models that want a user message last get one.
        messages.push(ChatMessage {
            role: "user".into(),
            content: INSTRUCTIONS.into(),
        });
        let mut pieces = self.llm.start(&messages, false).await?;
        let mut text = String::new();
        while let Some(p) = pieces.next().await? {
            text.push_str(&p);
        }
        let text = finish(&text)?;
        let refused = companion::content::safety::answer_refusal(&text, f.adult).is_some();
        Ok((!refused).then_some(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired() -> store::Fired {
        store::Fired {
            written: false,
            allowed: true,
            unreachable: false,
            spoke: false,
            unanswered: false,
            this_week: 0,
            minor_cue: false,
            adult: false,
            tz_offset_min: None,
            quiet_from: 23,
            quiet_to: 9,
            language_code: None,
            lang: None,
            user_name: "Ann".into(),
            system_prompt: String::new(),
            summary: String::new(),
            turns: sqlx::types::Json(Vec::new()),
            facts: sqlx::types::Json(Vec::new()),
        }
    }

    /// A change to a fired nudge's state, and the reason it must give.
    type Case = (fn(&mut store::Fired), &'static str);

    #[test]
    fn each_rule_stops_a_nudge_alone() {
        assert_eq!(stopped(&fired(), 3), None);
        let cases: [Case; 6] = [
            (|f| f.allowed = false, "the user turned nudges off"),
            (|f| f.unreachable = true, "Telegram does not reach the user"),
            (|f| f.spoke = true, "the user wrote since"),
            (|f| f.unanswered = true, "her last nudge is unanswered"),
            (|f| f.this_week = 3, "the weekly limit is reached"),
            (
                |f| f.minor_cue = true,
                "a minor was brought into the dialog",
            ),
        ];
        for (set, why) in cases {
            let mut f = fired();
            set(&mut f);
            assert_eq!(stopped(&f, 3), Some(why));
        }
        let mut f = fired();
        f.this_week = 2;
        assert_eq!(stopped(&f, 3), None, "under the limit");
        assert!(stopped(&fired(), 0).is_some(), "NUDGES_PER_WEEK=0: none");
    }
}
