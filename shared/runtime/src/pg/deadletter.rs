//! Dead letters: messages a stage gave up on, kept in Postgres with the reason so nothing
//! is lost silently and ops can inspect or replay them.

use sqlx::PgConnection;

/// What is recorded about a message that was terminated.
#[derive(Debug)]
pub struct DeadLetter<'a> {
    /// Function that gave up.
    pub stage: &'a str,
    /// Subject the message arrived on.
    pub subject: &'a str,
    /// The raw payload, as received.
    pub payload: &'a [u8],
    /// Why.
    pub error: &'a str,
    /// How many times it was delivered.
    pub delivered: i64,
    /// The chat it concerned, if known.
    pub chat_id: Option<i64>,
}

/// Stores a dead letter.
pub async fn record(c: &mut PgConnection, dl: &DeadLetter<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dead_letters (stage, subject, payload, error, delivered, chat_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(dl.stage)
    .bind(dl.subject)
    .bind(dl.payload)
    .bind(dl.error)
    .bind(dl.delivered)
    .bind(dl.chat_id)
    .execute(c)
    .await?;
    Ok(())
}
