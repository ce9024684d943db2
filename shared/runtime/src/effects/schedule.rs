//! Jobs the server publishes later (JetStream message schedules): a schedule is an outbox row
//! on a schedule subject (`topology::schedule_subject`) whose payload wraps the job with when
//! and where it goes ([`Scheduled`]). The [`super::Outbox`] publishes it with the
//! `Nats-Schedule: @at …` and `Nats-Schedule-Target` headers and marks the row published itself
//! (no stage consumes a schedule's subject to do so). A schedule's subject is its identity:
//! publishing on it again replaces the pending one, so "one pending job per key" costs nothing.

use async_nats::jetstream::message::PublishMessage;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{Decision, OutboxJob};
use crate::envelope::Envelope;

/// Header naming when a schedule fires (`@at <RFC 3339>`).
pub const SCHEDULE: &str = "Nats-Schedule";
/// Header naming the subject a schedule publishes to.
pub const SCHEDULE_TARGET: &str = "Nats-Schedule-Target";

/// An outbox row's payload on a schedule subject: the job, when, and the subject it goes to.
#[derive(Debug, Serialize, Deserialize)]
pub struct Scheduled {
    /// When the server publishes the job.
    pub at: DateTime<Utc>,
    /// The subject it is published to (a stage's).
    pub target: String,
    /// The job's envelope as it will be delivered.
    pub job: Box<RawValue>,
}

/// The payload of a schedule publishing `env` on `target` at `at`.
pub fn wrap<T: Serialize>(at: DateTime<Utc>, target: &str, env: &Envelope<T>) -> Vec<u8> {
    let job = serde_json::value::to_raw_value(env).expect("jobs serialize");
    let s = Scheduled {
        at,
        target: target.to_owned(),
        job,
    };
    serde_json::to_vec(&s).expect("jobs serialize")
}

/// The publish of a stored schedule's payload, or `None` when it is not one (never written
/// by this module: logged and dropped by the caller).
pub(crate) fn message(payload: &[u8]) -> Option<PublishMessage> {
    let s: Scheduled = serde_json::from_slice(payload).ok()?;
    let at = format!("@at {}", s.at.to_rfc3339_opts(SecondsFormat::Secs, true));
    let body = bytes::Bytes::copy_from_slice(s.job.get().as_bytes());
    Some(
        crate::envelope::schema_only(body)
            .header(SCHEDULE, at.as_str())
            .header(SCHEDULE_TARGET, s.target.as_str()),
    )
}

impl Decision {
    /// A schedule on `subject` (its identity: it replaces the one pending there) publishing
    /// `env` on `target` at `at`; `id` is the outbox row's (distinct per publish of it).
    pub fn schedule<T: Serialize>(
        &mut self,
        id: Uuid,
        subject: &str,
        (at, target): (DateTime<Utc>, &str),
        env: &Envelope<T>,
    ) {
        self.jobs.push(OutboxJob {
            job_id: id,
            subject: subject.to_owned(),
            payload: wrap(at, target, env),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_carries_its_time_target_and_the_job_unchanged() {
        let env = Envelope::new("t", serde_json::json!({"a": 1}));
        let at = DateTime::parse_from_rfc3339("2030-01-02T03:04:05.678Z")
            .unwrap()
            .with_timezone(&Utc);
        let payload = wrap(at, "jobs.reply", &env);
        let msg = message(&payload).expect("a schedule");
        let dbg = format!("{msg:?}");
        assert!(dbg.contains("@at 2030-01-02T03:04:05Z"), "{dbg}");
        assert!(dbg.contains("jobs.reply"), "{dbg}");
        let s: Scheduled = serde_json::from_slice(&payload).unwrap();
        let back: Envelope<serde_json::Value> = serde_json::from_str(s.job.get()).unwrap();
        assert_eq!(back, env);
        assert!(message(b"{}").is_none());
    }
}
