//! The memory extraction's two statements: reading a dialog's batch (its watermark, whether
//! a minor was brought into it, the messages beyond the watermark and what is known already)
//! and storing the facts with the watermark's move.

use sqlx::PgPool;
use sqlx::types::Json;

use super::extract::Fact;
use super::{BATCH_MESSAGES, KNOWN_SHOWN};
use crate::store::Turn;

/// A dialog's batch: its watermark, the messages beyond it and what is known already.
#[derive(sqlx::FromRow)]
pub(super) struct Batch {
    pub memory_upto: i64,
    pub minor_cue: bool,
    pub adult: bool,
    pub messages: Json<Vec<Turn>>,
    pub known: Json<Vec<(String, String)>>,
}

pub(super) async fn load(pool: &PgPool, dialog_id: i64) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as(
        "SELECT d.memory_upto, d.minor_cue_at IS NOT NULL AS minor_cue, d.nsfw_enabled AS adult,
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
/// when another copy moved the watermark first or the dialog is gone, no fact once the dialog
/// has a minor cue, and none whose source message (`messages`, as read) was withheld, edited
/// or deleted meanwhile. Rows written.
pub(super) async fn store(
    pool: &PgPool,
    dialog_id: i64,
    (from, to): (i64, i64),
    facts: &[Fact],
    messages: &[Turn],
) -> sqlx::Result<u64> {
    let keys: Vec<&str> = facts.iter().map(|f| f.key.as_str()).collect();
    let texts: Vec<&str> = facts.iter().map(|f| f.fact.as_str()).collect();
    let sources: Vec<i64> = facts.iter().map(|f| f.source).collect();
    let said: Vec<&str> = facts
        .iter()
        .map(|f| {
            messages
                .iter()
                .find(|t| t.2 == f.source)
                .map_or("", |t| t.1.as_str())
        })
        .collect();
    let done = sqlx::query(
        "WITH moved AS (UPDATE dialogs SET memory_upto = $3 WHERE id = $1 AND memory_upto = $2
                        RETURNING id, user_id, girl_id, minor_cue_at)
         INSERT INTO memory_facts AS m (user_id, girl_id, key, fact, dialog_id, source_message_id)
         SELECT moved.user_id, moved.girl_id, f.key, f.fact, moved.id, s.id
         FROM moved, UNNEST($4::text[], $5::text[], $6::bigint[], $7::text[])
                     AS f(key, fact, source, said)
         JOIN chat_messages s ON s.id = f.source
         WHERE s.dialog_id = moved.id AND s.withheld_at IS NULL AND s.content = f.said
           AND moved.minor_cue_at IS NULL
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
    .bind(&said)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
