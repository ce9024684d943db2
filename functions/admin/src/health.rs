//! The health section: per stage, messages pending, in flight and redelivered (JetStream
//! consumer info) and how long the oldest has waited; the persona cards refused at the last
//! load (file, field, reason); dead letters in the last day and all time; the latest dead
//! letters with their reason, each with a button that sends it back to its stage.

use std::fmt::Write;

use async_nats::jetstream;
use companion::ui::admin::Section;
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::nats::topology::{STAGES, StageSpec};
use sqlx::PgPool;

use crate::view::View;

/// Dead letters listed (newest first), five a page.
const DEAD_LETTERS: i64 = 50;

/// Refused persona cards named at most (the rest are counted).
const PROBLEMS: i64 = 10;

/// How long the oldest message of `stage` still in its stream (a work queue: handled ones are
/// removed) has waited, when it has one.
async fn oldest(js: &jetstream::Context, stage: &StageSpec) -> Option<chrono::Duration> {
    let stream = js.get_stream(stage.stream).await.ok()?;
    let first = stream
        .direct_get_first_for_subject(stage.subject)
        .await
        .ok()?;
    let at =
        chrono::DateTime::from_timestamp(first.time.unix_timestamp(), first.time.nanosecond())?;
    Some(chrono::Utc::now() - at)
}

/// "12s", "4m", "3h", "2d".
pub fn age(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// The cards fn-updates refused at its last load, as written by `personas::sync`.
async fn persona_problems(pool: &PgPool) -> Result<String, HandlerError> {
    let (count, problems): (i64, Vec<String>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM persona_problems),
                ARRAY(SELECT file || ' — ' || field || ': ' || reason FROM persona_problems
                      ORDER BY position LIMIT $1)",
    )
    .bind(PROBLEMS)
    .fetch_one(pool)
    .await?;
    if count == 0 {
        return Ok("\nPersona cards: none refused\n".to_owned());
    }
    let mut out = format!("\n⚠️ Persona cards refused at the last load: {count}\n");
    for p in problems {
        let shown: String = p.chars().take(200).collect();
        let _ = writeln!(out, "• {shown}");
    }
    if count > PROBLEMS {
        let _ = writeln!(
            out,
            "… and {} more (fn-updates' log names them)",
            count - PROBLEMS
        );
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct DeadLetter {
    id: i64,
    stage: String,
    error: String,
    created_at: chrono::DateTime<chrono::Utc>,
    retried_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Renders the health section.
pub async fn render(pool: &PgPool, js: &jetstream::Context) -> Result<View, HandlerError> {
    let mut head = String::from("🩺 Health: pending · in flight · redelivered · oldest\n\n");
    for stage in STAGES {
        match runtime::nats::topology::consumer_info(js, &stage).await {
            Some(i) => {
                let waited = match i.num_pending + i.num_ack_pending as u64 {
                    0 => "–".to_owned(),
                    _ => oldest(js, &stage).await.map(age).unwrap_or("?".into()),
                };
                let _ = writeln!(
                    head,
                    "{}: {} · {} · {} · {waited}",
                    stage.name, i.num_pending, i.num_ack_pending, i.num_redelivered
                );
            }
            None => {
                let _ = writeln!(head, "{}: no consumer (not running yet?)", stage.name);
            }
        }
    }
    head += &persona_problems(pool).await?;
    let (day, all): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE created_at > now() - interval '1 day'), count(*) FROM dead_letters",
    )
    .fetch_one(pool)
    .await?;
    let _ = writeln!(
        head,
        "\nDead letters: {day} in the last day, {all} in all\n"
    );
    let last: Vec<DeadLetter> = sqlx::query_as(
        "SELECT id, stage, error, created_at, retried_at FROM dead_letters
         ORDER BY id DESC LIMIT $1",
    )
    .bind(DEAD_LETTERS)
    .fetch_all(pool)
    .await?;
    let mut lines = Vec::new();
    let mut buttons = Vec::new();
    for l in last {
        let reason: String = l.error.chars().take(160).collect();
        let retried = match l.retried_at {
            Some(at) => format!(" (retried {})", at.format("%m-%d %H:%M")),
            None => String::new(),
        };
        lines.push(format!(
            "#{} {} {}{retried}: {reason}",
            l.id,
            l.created_at.format("%m-%d %H:%M"),
            l.stage
        ));
        let label = format!("🔁 Retry #{} ({})", l.id, l.stage);
        buttons.push(Some((label, Button::AdminRetry(l.id).encode())));
    }
    Ok(View {
        line_buttons: buttons,
        ..View::table(Section::Health, head, lines, 5)
    })
}
