//! The rolling summary: when a dialog has more messages than the prompt keeps, its older
//! messages are folded, by the LLM, into a short summary stored on the dialog and shown to the
//! model in their place — so a long dialog keeps its story. It runs as its own job on the
//! reply subject (queued with the answer that found it due), off the critical path, and is
//! written only if no other copy moved the summary meanwhile.

use companion::jobs::ReplyJob;
use runtime::HandlerError;
use runtime::envelope::Envelope;
use sqlx::PgPool;
use uuid::Uuid;

use crate::Reply;
use crate::answer::finish;
use crate::llm::ChatMessage;

/// The newest messages always left out of the summary (the prompt shows them verbatim).
pub const KEEP: usize = 12;
/// A summary is written once at least this many messages wait beyond [`KEEP`].
pub const BATCH: i64 = 8;

/// What the summariser is asked.
const INSTRUCTIONS: &str = "You keep the memory of a long role-play chat between a user and \
a character. Rewrite the summary so far together with the new messages into one summary of at \
most 200 words: who is who, what happened, places, promises, names, feelings and how the \
relationship stands. Write it in the language of the conversation, in the third person, \
plainly, without quoting. Answer with the summary only.";

/// Whether an answer that dropped `dropped` turns from a dialog with `unsummarized` messages
/// beyond its summary should queue a summary (at most one per batch).
pub fn due(dropped: usize, unsummarized: i64, history: i64) -> bool {
    (dropped > 0 || unsummarized > history) && unsummarized >= KEEP as i64 + BATCH
}

/// The summary job of a dialog whose summary covers messages up to `upto`: one id per
/// (dialog, summary state), so answers that find the same summary due queue it once.
pub fn job(from: &Envelope<ReplyJob>, upto: i64) -> Envelope<ReplyJob> {
    let job = ReplyJob {
        summarize: true,
        regenerate: None,
        ..from.payload.clone()
    };
    let mut env = Envelope::new(from.trace_id.clone(), job);
    env.id = Uuid::from_u64_pair(
        from.payload.dialog_id as u64 ^ 0x5355_4d4d_4152_5900,
        upto as u64,
    );
    env
}

/// The summary state of a dialog and its messages beyond it, oldest first.
async fn load(
    pool: &PgPool,
    dialog_id: i64,
) -> sqlx::Result<Option<(String, i64, Vec<(String, String, i64)>)>> {
    let Some((summary, upto)): Option<(String, i64)> =
        sqlx::query_as("SELECT summary, summary_upto FROM dialogs WHERE id = $1")
            .bind(dialog_id)
            .fetch_optional(pool)
            .await?
    else {
        return Ok(None);
    };
    let rows = sqlx::query_as(
        "SELECT role, content, id FROM chat_messages WHERE dialog_id = $1 AND id > $2
           AND withheld_at IS NULL
         ORDER BY id LIMIT 400",
    )
    .bind(dialog_id)
    .bind(upto)
    .fetch_all(pool)
    .await?;
    Ok(Some((summary, upto, rows)))
}

impl Reply {
    /// Folds a dialog's older messages into its summary.
    pub(crate) async fn summarize(&self, env: &Envelope<ReplyJob>) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        runtime::effects::outbox::received(pool, env.id).await?;
        let dialog_id = env.payload.dialog_id;
        let Some((summary, upto, rows)) = load(pool, dialog_id).await? else {
            return Ok(());
        };
        if rows.len() <= KEEP {
            return Ok(());
        }
        let fold = &rows[..rows.len() - KEEP];
        let transcript: Vec<String> = fold
            .iter()
            .map(|(role, text, _)| {
                let who = if role == "user" { "User" } else { "Character" };
                format!("{who}: {text}")
            })
            .collect();
        let ask = format!(
            "Summary so far:\n{}\n\nNew messages:\n{}",
            if summary.is_empty() {
                "(none)"
            } else {
                &summary
            },
            transcript.join("\n")
        );
        let messages = [
            ChatMessage {
                role: "system".into(),
                content: INSTRUCTIONS.into(),
            },
            ChatMessage {
                role: "user".into(),
                content: ask,
            },
        ];
        let mut pieces = self.llm.start(&messages, false).await?;
        let mut text = String::new();
        while let Some(p) = pieces.next().await? {
            text.push_str(&p);
        }
        let mut text = finish(&text)?;
        if companion::content::safety::answer_refusal(&text, false).is_some() {
            // Never stored: the folded messages leave the prompt with the old summary kept.
            tracing::warn!(
                dialog_id,
                "the summary refused by the minor-safety scan; old one kept"
            );
            text = summary;
        }
        let new_upto = fold.last().map(|r| r.2).unwrap_or(upto);
        let saved = sqlx::query(
            "UPDATE dialogs SET summary = $2, summary_upto = $3 WHERE id = $1 AND summary_upto = $4",
        )
        .bind(dialog_id)
        .bind(&text)
        .bind(new_upto)
        .bind(upto)
        .execute(pool)
        .await?;
        tracing::info!(
            dialog_id,
            folded = fold.len(),
            saved = saved.rows_affected(),
            "summary updated"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_due_once_a_batch_waits_beyond_the_kept_messages() {
        assert!(!due(0, 30, 40), "everything fits");
        assert!(!due(3, 19, 40), "too few to fold yet");
        assert!(due(3, 20, 40));
        assert!(due(0, 41, 40), "more than the history window");
    }

    #[test]
    fn one_job_id_per_dialog_and_summary_state() {
        let env = Envelope::new(
            "t",
            ReplyJob {
                dialog_id: 7,
                ..Default::default()
            },
        );
        let (a, b) = (job(&env, 100), job(&env, 100));
        assert_eq!(a.id, b.id);
        assert!(a.payload.summarize);
        assert_ne!(job(&env, 101).id, a.id);
    }
}
