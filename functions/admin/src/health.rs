//! The health section: per stage, messages pending, in flight and redelivered (JetStream
//! consumer info), dead letters in the last day and all time, and the latest dead letters
//! with their reason.

use std::fmt::Write;

use async_nats::jetstream;
use shared::HandlerError;
use shared::topology::STAGES;
use sqlx::PgPool;

/// Renders the health section.
pub async fn render(pool: &PgPool, js: &jetstream::Context) -> Result<String, HandlerError> {
    let mut out = String::from("🩺 Health: pending · in flight · redelivered\n\n");
    for stage in STAGES {
        match shared::topology::consumer_info(js, &stage).await {
            Some(i) => {
                let _ = writeln!(
                    out,
                    "{}: {} · {} · {}",
                    stage.name, i.num_pending, i.num_ack_pending, i.num_redelivered
                );
            }
            None => {
                let _ = writeln!(out, "{}: no consumer (not running yet?)", stage.name);
            }
        }
    }
    let (day, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE created_at > now() - interval '1 day'), count(*) FROM dead_letters",
    )
    .fetch_one(pool)
    .await?;
    let _ = writeln!(out, "\nDead letters: {day} in the last day, {all} in all");
    let last: Vec<(String, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT stage, error, created_at FROM dead_letters ORDER BY id DESC LIMIT 5",
    )
    .fetch_all(pool)
    .await?;
    for (stage, error, at) in last {
        let reason: String = error.chars().take(120).collect();
        let _ = writeln!(out, "{} {stage}: {reason}", at.format("%m-%d %H:%M"));
    }
    Ok(out)
}
