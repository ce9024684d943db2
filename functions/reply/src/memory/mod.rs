//! Long-term memory: durable facts about the user, extracted by the LLM from the dialog off
//! the critical path and shown to the model in later prompts (`rank`), in any dialog with the
//! same persona — or with every persona when the user shares them.
//!
//! Extraction runs as its own reply job (`ReplyJob{remember:true}`), queued with the answer
//! that found it due in the same commit (through the outbox), as the rolling summary is. It
//! is batched: due once [`Reply`]'s `memory_every` user messages (`MEMORY_EVERY`, default 4;
//! 0 turns extraction off) wait beyond the dialog's watermark `memory_upto`, so it costs one
//! short call per few turns rather than doubling the LLM calls, and each call sees several
//! messages together (a fact often spans a question and its answer). The job id is derived
//! from the answer that queued it, so a batch whose extraction was given up on (dead-lettered)
//! is queued again by the next answer; the facts are written in one statement with the
//! watermark's move, only if no other copy moved it meanwhile, so neither a redelivery nor a
//! second copy stores a batch twice. A batch is bounded by tokens as well as messages.
//!
//! Nothing is learned where a minor came up: a dialog with a minor cue only moves its
//! watermark, a batch whose user messages together are refused by the chat scan stores no
//! facts, and a fact is stored only while its source message is still there, unchanged and
//! not withheld (withholding, marking and editing delete the facts drawn from there).

mod batch;
pub mod extract;
pub mod rank;

use companion::jobs::ReplyJob;
use runtime::HandlerError;
use runtime::envelope::Envelope;
use uuid::Uuid;

use crate::Reply;
use crate::store::Turn;
use batch::{load, store};
use extract::Fact;

/// Messages read in one extraction at most (the rest wait for the next one).
const BATCH_MESSAGES: i64 = 60;
/// Tokens of messages in one extraction at most (the rest wait for the next one).
const BATCH_TOKENS: usize = 6000;
/// Known facts shown to the extractor (so it reuses their keys) at most.
const KNOWN_SHOWN: i64 = 60;
/// How freely facts are written: low, they should repeat what was said.
const TEMPERATURE: f32 = 0.2;
/// The answer's length cap in tokens.
const MAX_TOKENS: u32 = 600;

/// Whether an answer should queue an extraction: `every` (0: never) user messages wait.
pub fn due(every: i64, waiting: i64) -> bool {
    every > 0 && waiting >= every
}

/// The extraction job queued by answer `from` for a dialog whose facts are extracted up to
/// message `upto`: one id per (answer, watermark), so a redelivered answer queues it once and
/// a later answer queues it again when this one was given up on.
pub fn job(from: &Envelope<ReplyJob>, upto: i64) -> Envelope<ReplyJob> {
    let job = ReplyJob {
        remember: true,
        summarize: false,
        regenerate: None,
        ..from.payload.clone()
    };
    let mut env = Envelope::new(from.trace_id.clone(), job);
    let (hi, lo) = from.id.as_u64_pair();
    env.id = Uuid::from_u64_pair(hi ^ 0x4d45_4d4f_5259_0000, lo ^ upto as u64);
    env
}

impl Reply {
    /// Extracts the facts of a dialog's messages since its watermark into memory.
    pub(crate) async fn remember(&self, env: &Envelope<ReplyJob>) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        runtime::effects::outbox::received(pool, env.id).await?;
        let dialog_id = env.payload.dialog_id;
        let Some(batch) = load(pool, dialog_id).await? else {
            return Ok(());
        };
        let messages = batch.messages.0;
        let waiting = messages.iter().filter(|t| t.0 == "user").count() as i64;
        // A redelivery after the batch was stored finds fewer waiting: nothing to do.
        if !due(self.memory_every, waiting) {
            return Ok(());
        }
        let messages = bounded(messages);
        let Some(upto) = messages.last().map(|t| t.2) else {
            return Ok(());
        };
        let facts = if batch.minor_cue {
            tracing::info!(
                dialog_id,
                "a minor was brought into the dialog: nothing learned"
            );
            Vec::new()
        } else if refused(&messages, batch.adult) {
            tracing::warn!(
                dialog_id,
                "the batch refused by the minor-safety scan: nothing learned"
            );
            Vec::new()
        } else {
            self.extract(dialog_id, &batch.known.0, &messages).await?
        };
        let from = batch.memory_upto;
        let written = store(pool, dialog_id, (from, upto), &facts, &messages).await?;
        tracing::info!(
            dialog_id,
            messages = messages.len(),
            facts = facts.len(),
            written,
            "memory updated"
        );
        Ok(())
    }

    /// The facts the LLM finds in `messages`; none when its answer is not the JSON asked for
    /// (asking again would cost the same call for the same words) or the request is refused
    /// for good (a batch that can never be read must not hold the dialog's memory).
    async fn extract(
        &self,
        dialog_id: i64,
        known: &[(String, String)],
        messages: &[Turn],
    ) -> Result<Vec<Fact>, HandlerError> {
        let ask = extract::ask(known, messages);
        let schema = extract::schema();
        let asked = (extract::SCHEMA_NAME, &schema);
        let answer = match self
            .llm
            .structured(&ask, asked, (TEMPERATURE, MAX_TOKENS))
            .await
        {
            Ok(answer) => answer,
            Err(HandlerError::Permanent { reason }) => {
                tracing::warn!(
                    dialog_id,
                    reason,
                    "the memory request refused; batch skipped"
                );
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let text = crate::answer::strip_thinking(&answer.text);
        Ok(extract::read(&text, messages).unwrap_or_else(|| {
            tracing::warn!(dialog_id, level = ?answer.level, "the memory answer held no facts JSON");
            Vec::new()
        }))
    }
}

/// The first messages of a batch within [`BATCH_TOKENS`] (one at least).
fn bounded(mut messages: Vec<Turn>) -> Vec<Turn> {
    let mut used = 0;
    let keep = messages
        .iter()
        .take_while(|t| {
            let shown: String = t.1.chars().take(extract::MESSAGE_CHARS).collect();
            used += companion::personas::lorebook::tokens(&shown) + 4;
            used <= BATCH_TOKENS
        })
        .count();
    messages.truncate(keep.max(1));
    messages
}

/// Whether the batch's user messages, read together, are refused by the chat scan (a request
/// split over messages reads as one).
fn refused(messages: &[Turn], adult: bool) -> bool {
    let said: Vec<&str> = messages
        .iter()
        .filter(|t| t.0 == "user")
        .map(|t| t.1.as_str())
        .collect();
    companion::content::safety::chat_refusal(&said.join("\n"), adult).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction_is_due_once_a_batch_of_user_messages_waits() {
        assert!(!due(4, 3));
        assert!(due(4, 4));
        assert!(due(4, 9));
        assert!(!due(0, 100), "0 turns extraction off");
    }

    #[test]
    fn a_batch_is_bounded_by_tokens_and_read_as_one_request() {
        let long = "word ".repeat(900);
        let turns: Vec<Turn> = (1..=60).map(|i| ("user".into(), long.clone(), i)).collect();
        let kept = bounded(turns);
        assert!(kept.len() > 1 && kept.len() < 60, "{}", kept.len());
        let huge = vec![("user".into(), "x".repeat(100_000), 1)];
        assert_eq!(bounded(huge).len(), 1, "one message at least");
        let split: Vec<Turn> = vec![
            ("user".into(), "I was 15 back then".into(), 1),
            ("assistant".into(), "Tell me more".into(), 2),
            (
                "user".into(),
                "and I'm still 15 now, let's have sex".into(),
                3,
            ),
        ];
        assert!(refused(&split, false));
        let fine: Vec<Turn> = vec![("user".into(), "My dog is called Rex".into(), 1)];
        assert!(!refused(&fine, true));
    }

    #[test]
    fn one_job_id_per_answer_and_watermark() {
        let env = Envelope::new(
            "t",
            ReplyJob {
                dialog_id: 7,
                ..Default::default()
            },
        );
        let (a, b) = (job(&env, 100), job(&env, 100));
        assert_eq!(a.id, b.id, "a redelivered answer queues the same job");
        assert!(a.payload.remember && !a.payload.summarize);
        assert_ne!(job(&env, 101).id, a.id);
        let later = Envelope::new("t", env.payload.clone());
        assert_ne!(
            job(&later, 100).id,
            a.id,
            "a later answer queues the batch again (the first copy may have been given up on)"
        );
        assert_ne!(
            crate::summary::job(&env, 100).id,
            a.id,
            "not the summary's id"
        );
    }
}
