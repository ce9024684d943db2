//! `/memory`: what the user's current persona remembers about them (her facts, and every
//! persona's when the user shares them), a page at a time; forgetting one fact or all of
//! them; the sharing choice; the facts learned in one dialog (forgotten with it); and the
//! facts `/export` writes.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Whose memory the view shows: the user's current persona.
#[derive(Debug, sqlx::FromRow)]
pub struct Whose {
    /// The persona.
    pub girl_id: i32,
    /// Her name.
    pub name: String,
    /// The user shares facts with every persona.
    pub shared: bool,
}

/// The user's current persona and their sharing choice; `None` before they chose one.
pub async fn whose(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Option<Whose>> {
    sqlx::query_as(
        "SELECT g.id AS girl_id, g.name, u.memory_shared AS shared
         FROM users u JOIN girls g ON g.id = u.current_girl_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(c)
    .await
}

/// A remembered fact as the view shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct Listed {
    /// The fact (`memory_facts.id`).
    pub id: i64,
    /// Its text.
    pub fact: String,
    /// When it was last learned.
    pub updated_at: DateTime<Utc>,
    /// The persona who learned it, when it is another one (shared).
    pub learned_by: Option<String>,
    /// The facts in all.
    pub total: i64,
}

/// Which facts a persona knows, as SQL over `f` (memory_facts) with `$1` the user, `$2` the
/// persona and `$3` the sharing choice.
macro_rules! known_sql {
    () => {
        "f.user_id = $1 AND (f.girl_id = $2 OR $3)"
    };
}

/// Page `page` (from 0, `per_page` long) of what persona `w` knows, newest first.
pub async fn page(
    c: &mut PgConnection,
    user_id: i64,
    w: &Whose,
    page: i16,
    per_page: i64,
) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(concat!(
        "SELECT f.id, f.fact, f.updated_at,
                CASE WHEN f.girl_id <> $2 THEN g.name END AS learned_by, count(*) OVER () AS total
         FROM memory_facts f JOIN girls g ON g.id = f.girl_id WHERE ",
        known_sql!(),
        " ORDER BY f.updated_at DESC, f.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(user_id)
    .bind(w.girl_id)
    .bind(w.shared)
    .bind(per_page)
    .bind(i64::from(page) * per_page)
    .fetch_all(c)
    .await
}

/// Forgets the user's fact `fact_id`; `false` when it was not theirs or is gone.
pub async fn forget(c: &mut PgConnection, user_id: i64, fact_id: i64) -> sqlx::Result<bool> {
    let r = sqlx::query("DELETE FROM memory_facts WHERE id = $2 AND user_id = $1")
        .bind(user_id)
        .bind(fact_id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Forgets everything persona `w` knows about the user (every persona's facts when shared);
/// how many facts. The memory watermarks of the dialogs concerned move past their last
/// message in the same statement, so an extraction in flight (which stores only if the
/// watermark it read is still there) writes nothing back from what was said before.
pub async fn forget_all(c: &mut PgConnection, user_id: i64, w: &Whose) -> sqlx::Result<u64> {
    let r = sqlx::query(concat!(
        "WITH moved AS (UPDATE dialogs d SET memory_upto = GREATEST(d.memory_upto,
                            (SELECT COALESCE(max(id), 0) FROM chat_messages WHERE dialog_id = d.id))
                        WHERE d.user_id = $1 AND (d.girl_id = $2 OR $3))
         DELETE FROM memory_facts f WHERE ",
        known_sql!()
    ))
    .bind(user_id)
    .bind(w.girl_id)
    .bind(w.shared)
    .execute(c)
    .await?;
    Ok(r.rows_affected())
}

/// Shares the user's facts with every persona (`true`) or keeps them per persona.
pub async fn share(c: &mut PgConnection, user_id: i64, on: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET memory_shared = $2 WHERE id = $1")
        .bind(user_id)
        .bind(on)
        .execute(c)
        .await?;
    Ok(())
}

/// How many facts were last learned in the user's dialog `dialog_id` (deleting it forgets
/// them).
pub async fn learned_in(c: &mut PgConnection, user_id: i64, dialog_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM memory_facts WHERE user_id = $1 AND dialog_id = $2")
        .bind(user_id)
        .bind(dialog_id)
        .fetch_one(c)
        .await
}

/// Everything any persona remembers about the user, newest first (for `/export`: the user's
/// data, whoever learned it and whether or not they share it).
pub async fn exported(c: &mut PgConnection, user_id: i64) -> sqlx::Result<Vec<Listed>> {
    let Some(w) = whose(&mut *c, user_id).await? else {
        return Ok(Vec::new());
    };
    let all = Whose { shared: true, ..w };
    page(c, user_id, &all, 0, 1000).await
}
