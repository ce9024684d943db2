//! How a [`super::Decision`] is written: its effects and outbox rows in one statement
//! (optionally behind the caller's gate), bound as arrays.

use sqlx::Postgres;
use sqlx::postgres::PgArguments;

use super::{Decision, NewEffect, OutboxJob};
use crate::envelope::{Envelope, SendJob};
use crate::nats::topology::SEND_SUBJECT;

/// A query written with [`Decision::commit_gated`], before the caller's parameters are bound.
pub type GatedQuery<'q, T> = sqlx::query::QueryAs<'q, Postgres, T, PgArguments>;

pub(super) struct Rows {
    pub(super) effects: Vec<NewEffect>,
    pub(super) jobs: Vec<OutboxJob>,
}

impl Rows {
    pub(super) fn is_empty(&self) -> bool {
        self.effects.is_empty() && self.jobs.is_empty()
    }
}

/// Effects and outbox rows in one statement; `seq` follows the effects' order (WITH
/// ORDINALITY). With a gate, the gate runs first (as the CTE `gate`, its row returned) and the
/// rows are written only when it returned one; the gate's follow-on write, if any, runs as
/// the CTE `also` (it reads `gate` to write only what the gate let through).
pub(super) fn insert_sql(gate: Option<(&'static str, Option<&'static str>)>) -> String {
    let (head, when, tail) = match gate {
        Some((g, also)) => (
            match also {
                Some(a) => format!("gate AS ({g}), also AS ({a}), "),
                None => format!("gate AS ({g}), "),
            },
            "WHERE EXISTS (SELECT 1 FROM gate)",
            "SELECT * FROM gate",
        ),
        None => (String::new(), "", "SELECT 1"),
    };
    format!(
        "WITH {head}e AS (
             INSERT INTO effects (id, chat_id, method, params, blob, visible, notice, bulk)
             SELECT id, chat_id, method, params, blob, visible, notice,
                    COALESCE((params ->> 'bulk')::bool, false)
             FROM UNNEST($1::uuid[], $2::bigint[], $3::text[], $4::jsonb[], $5::bytea[],
                         $6::bool[], $7::bool[])
                  WITH ORDINALITY AS t(id, chat_id, method, params, blob, visible, notice, n)
             {when} ORDER BY n ON CONFLICT (id) DO NOTHING),
         o AS (INSERT INTO outbox (job_id, source, subject, payload)
             SELECT job_id, $8, subject, payload
             FROM UNNEST($9::uuid[], $10::text[], $11::bytea[]) AS j(job_id, subject, payload)
             {when} ON CONFLICT (job_id) DO NOTHING)
         {tail}"
    )
}

/// Binds a decision's rows as parameters `$1`–`$11` of [`insert_sql`].
pub(super) fn bind_rows<'q, T>(
    q: GatedQuery<'q, T>,
    rows: &Rows,
    source: &str,
) -> GatedQuery<'q, T> {
    let (e, j) = (&rows.effects, &rows.jobs);
    q.bind(e.iter().map(|e| e.id).collect::<Vec<_>>())
        .bind(e.iter().map(|e| e.chat_id).collect::<Vec<_>>())
        .bind(e.iter().map(|e| e.method.to_owned()).collect::<Vec<_>>())
        .bind(e.iter().map(|e| e.params.clone()).collect::<Vec<_>>())
        .bind(e.iter().map(|e| e.blob.clone()).collect::<Vec<_>>())
        .bind(e.iter().map(|e| e.visible).collect::<Vec<_>>())
        .bind(e.iter().map(|e| e.notice).collect::<Vec<_>>())
        .bind(source.to_owned())
        .bind(j.iter().map(|j| j.job_id).collect::<Vec<_>>())
        .bind(j.iter().map(|j| j.subject.clone()).collect::<Vec<_>>())
        .bind(j.iter().map(|j| j.payload.clone()).collect::<Vec<_>>())
}

impl Decision {
    /// The rows to write: the effects, and the jobs with one send job per chat added.
    pub(super) fn rows(mut self) -> Rows {
        let mut chats: Vec<i64> = Vec::new();
        for e in &self.effects {
            if !chats.contains(&e.chat_id) {
                chats.push(e.chat_id);
            }
        }
        for chat_id in chats {
            let job = SendJob {
                chat_id,
                effects: self
                    .effects
                    .iter()
                    .filter(|e| e.chat_id == chat_id)
                    .map(|e| e.id)
                    .collect(),
                completes: self.completes,
                action: None,
                action_at_ms: None,
            };
            self.job(SEND_SUBJECT, &Envelope::new(self.trace_id.clone(), job));
        }
        Rows {
            effects: self.effects,
            jobs: self.jobs,
        }
    }
}
