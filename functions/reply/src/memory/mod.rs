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
//! from (dialog, watermark), so answers that find the same batch due queue it once; the facts
//! are written in one statement with the watermark's move, only if no other copy moved it
//! meanwhile, so a redelivery never stores a batch twice.

pub mod extract;
pub mod rank;

use companion::jobs::ReplyJob;
use runtime::HandlerError;
use runtime::envelope::Envelope;
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Reply;
use crate::store::Turn;
use extract::Fact;

/// What she remembers about the user, as SQL over a dialog `d` and its user `u`: her facts,
/// and every persona's when the user shares them, newest first, as a JSON array of
/// [`crate::store::Known`] (the answer's and the nudge's statements read it alike).
macro_rules! known_facts_sql {
    () => {
        "COALESCE((SELECT json_agg(json_build_array(f.key, f.fact, f.mentions,
                          extract(epoch FROM now() - f.updated_at)::float8 / 86400,
                          f.girl_id = d.girl_id))
                   FROM (SELECT key, fact, mentions, updated_at, girl_id FROM memory_facts mf
                         WHERE mf.user_id = d.user_id
                           AND (mf.girl_id = d.girl_id OR u.memory_shared)
                         ORDER BY mf.updated_at DESC LIMIT 200) f), '[]'::json) AS facts"
    };
}
pub(crate) use known_facts_sql;

/// Messages read in one extraction at most (the rest wait for the next one).
const BATCH_MESSAGES: i64 = 60;
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

/// The extraction job of a dialog whose facts are extracted up to message `upto`: one id per
/// (dialog, watermark), so answers that find the same batch due queue it once.
pub fn job(from: &Envelope<ReplyJob>, upto: i64) -> Envelope<ReplyJob> {
    let job = ReplyJob {
        remember: true,
        summarize: false,
        regenerate: None,
        ..from.payload.clone()
    };
    let mut env = Envelope::new(from.trace_id.clone(), job);
    env.id = Uuid::from_u64_pair(
        from.payload.dialog_id as u64 ^ 0x4d45_4d4f_5259_0000,
        upto as u64,
    );
    env
}

/// A dialog's batch: its watermark, the messages beyond it and what is known already.
#[derive(sqlx::FromRow)]
struct Batch {
    memory_upto: i64,
    messages: Json<Vec<Turn>>,
    known: Json<Vec<(String, String)>>,
}

async fn load(pool: &PgPool, dialog_id: i64) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as(
        "SELECT d.memory_upto,
                COALESCE((SELECT json_agg(json_build_array(m.role, m.content, m.id) ORDER BY m.id)
                          FROM (SELECT role, content, id FROM chat_messages
                                WHERE dialog_id = d.id AND id > d.memory_upto
                                  AND withheld_at IS NULL AND role <> 'system'
                                ORDER BY id LIMIT $2) m), '[]'::json) AS messages,
                COALESCE((SELECT json_agg(json_build_array(k.key, k.fact))
                          FROM (SELECT key, fact FROM memory_facts
                                WHERE user_id = d.user_id AND girl_id = d.girl_id
                                ORDER BY updated_at DESC LIMIT $3) k), '[]'::json) AS known
         FROM dialogs d WHERE d.id = $1",
    )
    .bind(dialog_id)
    .bind(BATCH_MESSAGES)
    .bind(KNOWN_SHOWN)
    .fetch_optional(pool)
    .await
}

/// Moves the dialog's watermark from `from` to `to` and stores `facts` with it (a fact whose
/// key is known replaces it; the same fact again counts a mention), in one statement: nothing
/// when another copy moved the watermark first or the dialog is gone. Rows written.
async fn store(
    pool: &PgPool,
    dialog_id: i64,
    (from, to): (i64, i64),
    facts: &[Fact],
) -> sqlx::Result<u64> {
    let keys: Vec<&str> = facts.iter().map(|f| f.key.as_str()).collect();
    let texts: Vec<&str> = facts.iter().map(|f| f.fact.as_str()).collect();
    let sources: Vec<i64> = facts.iter().map(|f| f.source).collect();
    let done = sqlx::query(
        "WITH moved AS (UPDATE dialogs SET memory_upto = $3 WHERE id = $1 AND memory_upto = $2
                        RETURNING id, user_id, girl_id)
         INSERT INTO memory_facts AS m (user_id, girl_id, key, fact, dialog_id, source_message_id)
         SELECT moved.user_id, moved.girl_id, f.key, f.fact, moved.id,
                (SELECT s.id FROM chat_messages s WHERE s.id = f.source AND s.dialog_id = moved.id)
         FROM moved, UNNEST($4::text[], $5::text[], $6::bigint[]) AS f(key, fact, source)
         ON CONFLICT (user_id, girl_id, key) DO UPDATE SET
             fact = EXCLUDED.fact, dialog_id = EXCLUDED.dialog_id,
             source_message_id = EXCLUDED.source_message_id, updated_at = now(),
             mentions = CASE WHEN m.fact = EXCLUDED.fact THEN m.mentions + 1 ELSE 1 END",
    )
    .bind(dialog_id)
    .bind(from)
    .bind(to)
    .bind(&keys)
    .bind(&texts)
    .bind(&sources)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
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
        let Some(upto) = messages.last().map(|t| t.2) else {
            return Ok(());
        };
        let ask = extract::ask(&batch.known.0, &messages);
        let schema = extract::schema();
        let answer = self
            .llm
            .structured(
                &ask,
                (extract::SCHEMA_NAME, &schema),
                (TEMPERATURE, MAX_TOKENS),
            )
            .await?;
        let text = crate::answer::strip_thinking(&answer.text);
        // An answer that is not the JSON asked for is no facts: asking again would cost the
        // same call for the same words.
        let facts = extract::read(&text, &messages).unwrap_or_else(|| {
            tracing::warn!(dialog_id, level = ?answer.level, "the memory answer held no facts JSON");
            Vec::new()
        });
        let written = store(pool, dialog_id, (batch.memory_upto, upto), &facts).await?;
        tracing::info!(
            dialog_id,
            messages = messages.len(),
            facts = facts.len(),
            written,
            "memory updated"
        );
        Ok(())
    }
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
    fn one_job_id_per_dialog_and_watermark() {
        let env = Envelope::new(
            "t",
            ReplyJob {
                dialog_id: 7,
                ..Default::default()
            },
        );
        let (a, b) = (job(&env, 100), job(&env, 100));
        assert_eq!(a.id, b.id);
        assert!(a.payload.remember && !a.payload.summarize);
        assert_ne!(job(&env, 101).id, a.id);
        assert_ne!(
            crate::summary::job(&env, 100).id,
            a.id,
            "not the summary's id"
        );
    }
}
