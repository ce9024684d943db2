//! Claiming an effect and finishing the claim. A claim leases the row for everything it may
//! do — two calls (an edit, then a send when the message cannot be edited) and an upload's
//! time by its size — under a token of its own; every statement that finishes or releases the
//! claim checks the token, so a copy whose lease ran out can neither clear nor complete the
//! claim of the copy that took over. Each is one autocommit statement.

use std::time::Duration;

use runtime::telegram::UPLOAD_BYTES_PER_SEC;
use sqlx::PgPool;
use uuid::Uuid;

use crate::plan::Row;
use crate::store::Effect;

/// A chat's flood rule for `pace_take`: interval and burst tolerance in ms, for private chats
/// and for groups.
#[derive(Debug, Clone, Copy)]
pub struct ChatRules {
    /// Private chats: (interval, burst).
    pub private: (f64, f64),
    /// Groups: (interval, burst).
    pub group: (f64, f64),
}

/// What claiming an effect found.
#[derive(Debug)]
pub enum Claim {
    /// Ours to send, under this lease.
    Go(Effect, Lease),
    /// Not ours: its row as it reads now (`None`: gone), for [`crate::plan::unclaimed`].
    Not(Option<Row>),
}

/// A claim on one effect: its id and the claim's token.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    /// The effect.
    pub id: Uuid,
    token: Uuid,
}

/// Claims effect `id` for `lease` (plus the upload's allowance) unless it is done, leased, or
/// behind an earlier visible effect of its chat that is still pending; a visible one also
/// takes its chat's send slot, one that is not reports a bot-wide pause still running. The
/// send job `job` is marked received (published) in the same statement.
pub async fn claim(
    pool: &PgPool,
    id: Uuid,
    lease: Duration,
    job: Uuid,
    rules: ChatRules,
) -> sqlx::Result<Claim> {
    let token = Uuid::new_v4();
    let row: Option<Effect> = sqlx::query_as(
        "WITH received AS (
             UPDATE outbox SET published_at = now() WHERE job_id = $3 AND published_at IS NULL)
         UPDATE effects e SET lease_token = $8, touched_at = now(), lease_until = now()
             + make_interval(secs => $2 + coalesce(octet_length(e.blob), 0) / $9)
         WHERE e.id = $1 AND e.state = 'pending'
           AND (e.lease_until IS NULL OR e.lease_until < now())
           AND NOT (e.visible AND EXISTS (
               SELECT 1 FROM effects p WHERE p.chat_id = e.chat_id AND p.state = 'pending'
                 AND p.visible AND p.seq < e.seq))
         RETURNING e.chat_id, e.method, e.params, e.blob, e.visible, e.bulk, e.notice,
           extract(epoch FROM now() - e.failing_since)::float8 AS failing_s,
           EXISTS (SELECT 1 FROM users u WHERE u.id = e.chat_id AND u.unreachable_at IS NOT NULL)
             AS unreachable,
           CASE WHEN NOT e.visible THEN coalesce((SELECT ceil(extract(epoch FROM
                    g.paused_until - clock_timestamp()) * 1000)::bigint FROM send_pace g
                    WHERE g.key = 'global' AND g.paused_until > clock_timestamp()), 0)
                WHEN e.chat_id < 0 THEN pace_take('chat:' || e.chat_id, $6, $7)
                ELSE pace_take('chat:' || e.chat_id, $4, $5) END AS wait_ms,
           CASE WHEN e.params ? 'edit_of' THEN (SELECT r.telegram_message_id FROM effects r
                WHERE r.id = (e.params->>'edit_of')::uuid) END AS edit_target,
           CASE WHEN NOT e.params ? 'final' THEN false
                -- A passing edit is stale once the final text is written; the draft only once
                -- the final text went out without it (then it would show up after it).
                WHEN e.params ? 'edit_of' THEN EXISTS (SELECT 1 FROM effects f
                     WHERE f.id = (e.params->>'final')::uuid)
                ELSE EXISTS (SELECT 1 FROM effects f
                     WHERE f.id = (e.params->>'final')::uuid AND f.state <> 'pending')
           END AS superseded",
    )
    .bind(id)
    .bind(lease.as_secs_f64())
    .bind(job)
    .bind(rules.private.0)
    .bind(rules.private.1)
    .bind(rules.group.0)
    .bind(rules.group.1)
    .bind(token)
    .bind(UPLOAD_BYTES_PER_SEC)
    .fetch_optional(pool)
    .await?;
    if let Some(e) = row {
        return Ok(Claim::Go(e, Lease { id, token }));
    }
    // Why not: done, held by another sender, or behind an earlier message (and its chat's
    // pause, if any).
    let state: Option<State> = sqlx::query_as(
        "WITH seen AS (UPDATE effects SET touched_at = now() WHERE id = $1 AND state = 'pending')
         SELECT e.state, extract(epoch FROM e.lease_until - now())::float8,
                extract(epoch FROM p.paused_until - now())::float8, e.chat_id,
                (SELECT x.id FROM erasures x WHERE x.id = (e.params->>'erasure')::uuid
                   AND x.done_at IS NULL) AS erasure
         FROM effects e LEFT JOIN send_pace p ON p.key = 'chat:' || e.chat_id
         WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(Claim::Not(state.map(
        |(state, lease_left_s, paused_s, chat_id, erasure)| Row {
            state,
            lease_left_s,
            paused_s,
            chat_id,
            erasure,
        },
    )))
}

/// Why a claim was not taken: state, lease left, chat pause left (s), chat, unfinished erasure.
type State = (String, Option<f64>, Option<f64>, i64, Option<Uuid>);

/// Gives the lease back (the effect waits for its turn).
pub async fn release(pool: &PgPool, l: Lease) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE effects SET lease_until = NULL, lease_token = NULL
         WHERE id = $1 AND lease_token = $2",
    )
    .bind(l.id)
    .bind(l.token)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks an effect sent with what Telegram answered (the message's id; for a photo, the file
/// id of its largest size, for a voice note or audio its file id, to send it again without
/// uploading); the upload is dropped.
/// Returns false when the claim was no longer ours (another sender took it over).
pub async fn sent(pool: &PgPool, l: Lease, result: &serde_json::Value) -> sqlx::Result<bool> {
    let file_id = result["photo"]
        .as_array()
        .and_then(|sizes| sizes.last())
        .or(result.get("voice"))
        .or(result.get("audio"))
        .and_then(|p| p["file_id"].as_str());
    let r = sqlx::query(
        "UPDATE effects SET state = 'sent', telegram_message_id = $2, telegram_file_id = $3,
             done_at = now(), blob = NULL, lease_until = NULL, lease_token = NULL
         WHERE id = $1 AND lease_token = $4 AND state = 'pending'",
    )
    .bind(l.id)
    .bind(result["message_id"].as_i64())
    .bind(file_id)
    .bind(l.token)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a claimed effect failed for good; false when the claim was no longer ours.
pub async fn failed(pool: &PgPool, l: Lease, error: &str) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE effects SET state = 'failed', error = $2, done_at = now(), blob = NULL,
             lease_until = NULL, lease_token = NULL
         WHERE id = $1 AND lease_token = $3 AND state = 'pending'",
    )
    .bind(l.id)
    .bind(error)
    .bind(l.token)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts a failed try and gives the lease back; returns the tries so far, or `None` when the
/// claim was no longer ours.
pub async fn failed_try(pool: &PgPool, l: Lease, error: &str) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "UPDATE effects SET attempts = attempts + 1, error = $2, lease_until = NULL,
             lease_token = NULL, failing_since = coalesce(failing_since, now())
         WHERE id = $1 AND lease_token = $3 AND state = 'pending'
         RETURNING attempts",
    )
    .bind(l.id)
    .bind(error)
    .bind(l.token)
    .fetch_optional(pool)
    .await
}
