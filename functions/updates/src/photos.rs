//! 📸 and `/photo [wish]`: checks the wish with the minor-safety scan, reserves a photo slot
//! within the per-user and per-dialog limits (under the user's row lock, so concurrent presses
//! never pass a limit; a photo already rendering for the dialog is not started twice), and
//! queues the prompt job, answering at once with who is taking the photo and how many are
//! left. The slot is the job's `photo_jobs` row: fn-image marks it done, a failure gives it
//! back.

use companion::content::safety;
use companion::jobs::PromptJob;
use companion::locale::{T, t, tf};
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::PROMPT_SUBJECT;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::actions::Ctx;
use crate::{dialogs, manage, screen};

/// Photo limits from configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Photos one user may get in all.
    pub per_user: i64,
    /// Photos one dialog may get.
    pub per_dialog: i64,
    /// Photos one user may have rendering at once, across dialogs.
    pub in_flight: i64,
}

/// Left counts are shown only when they get this low (a "9998 left" says nothing).
const SHOW_LEFT_BELOW: i64 = 50;

/// What reserving a slot found.
#[derive(Debug, sqlx::FromRow)]
struct Reserved {
    name: String,
    by_user: i64,
    by_dialog: i64,
    busy: bool,
    reserved: bool,
    reply_to: Option<i64>,
}

/// Locks the user's row, counts their photos (done, or pending for less than an hour) and
/// inserts job `job`'s slot when both limits allow, none is rendering for the dialog and fewer
/// than `in_flight` for the user.
async fn reserve(
    c: &mut PgConnection,
    user: i64,
    dialog: i64,
    job: Uuid,
    limits: Limits,
) -> sqlx::Result<Reserved> {
    // Its own statement: under READ COMMITTED the counts below then read a snapshot taken
    // after the lock was granted, so they see every slot a concurrent press committed.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user)
        .execute(&mut *c)
        .await?;
    sqlx::query_as(
        "WITH used AS (
             SELECT count(*) AS by_user,
                    count(*) FILTER (WHERE dialog_id = $2) AS by_dialog,
                    coalesce(bool_or(dialog_id = $2 AND state = 'pending'
                                     AND created_at > now() - interval '10 minutes'), false) AS busy,
                    count(*) FILTER (WHERE state = 'pending'
                                     AND created_at > now() - interval '10 minutes') AS rendering
             FROM photo_jobs
             WHERE user_id = $1
               AND (state = 'done' OR (state = 'pending' AND created_at > now() - interval '1 hour'))),
         ins AS (
             INSERT INTO photo_jobs (job_id, user_id, dialog_id)
             SELECT $3, $1, $2 FROM used
             WHERE NOT busy AND rendering < $6 AND by_user < $4 AND by_dialog < $5
             RETURNING 1)
         SELECT g.name, used.by_user, used.by_dialog, used.busy OR used.rendering >= $6 AS busy, EXISTS (SELECT 1 FROM ins) AS reserved,
                (SELECT m.telegram_message_id FROM chat_messages m
                 WHERE m.dialog_id = $2 AND m.role = 'assistant' AND m.telegram_message_id IS NOT NULL
                 ORDER BY m.id DESC LIMIT 1) AS reply_to
         FROM used, dialogs d JOIN girls g ON g.id = d.girl_id WHERE d.id = $2",
    )
    .bind(user)
    .bind(dialog)
    .bind(job)
    .bind(limits.per_user)
    .bind(limits.per_dialog)
    .bind(limits.in_flight)
    .fetch_one(c)
    .await
}

/// 📸 pressed under dialog `dialog` (in message `shown`), or `/photo` with an optional wish.
pub async fn photo(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog: Option<i64>,
    callback: Option<String>,
    shown: Option<i64>,
    wish: Option<String>,
) -> Result<(), HandlerError> {
    let (chat, user, lang) = (ctx.sender.chat_id, ctx.sender.user_id, ctx.lang);
    let callback = callback.as_deref();
    let dialog_id = match dialog {
        Some(id) if dialogs::owns_dialog(c, user, id).await? => Some(id),
        Some(_) => None,
        None => dialogs::active_dialog(c, user).await?,
    };
    let Some(dialog_id) = dialog_id else {
        manage::tell(ctx, d, callback, t(lang, T::PickFirst));
        return Ok(());
    };
    // A wish shapes a picture: read with the picture rules (a child in it blocks, owned or
    // remembered), and it marks the dialog like a chat message would.
    if let Some(hit) = wish.as_deref().and_then(safety::check_picture) {
        if safety::check(wish.as_deref().unwrap_or_default()).is_some() {
            screen::mark(c, dialog_id).await?;
        }
        tracing::warn!(
            update = ctx.update_id,
            rule = hit.rule.as_str(),
            "photo request refused by the minor-safety scan"
        );
        tracing::debug!(term = %hit.term, "what the scan matched");
        manage::tell(ctx, d, callback, t(lang, T::PhotoBlocked));
        return Ok(());
    }
    let job = Uuid::new_v4();
    let r = reserve(c, user, dialog_id, job, ctx.photos).await?;
    let name: &dyn std::fmt::Display = &r.name;
    let refusal = if r.busy {
        Some(tf(lang, T::PhotoBusy, &[("name", name)]))
    } else if !r.reserved && r.by_user >= ctx.photos.per_user {
        Some(tf(
            lang,
            T::PhotoLimitUser,
            &[("max", &ctx.photos.per_user)],
        ))
    } else if !r.reserved {
        Some(tf(
            lang,
            T::PhotoLimitDialog,
            &[("max", &ctx.photos.per_dialog)],
        ))
    } else {
        None
    };
    if let Some(text) = refusal {
        manage::tell(ctx, d, callback, &text);
        return Ok(());
    }
    let prompt = PromptJob {
        chat_id: chat,
        user_id: user,
        dialog_id,
        lang,
        reply_to: shown.or(r.reply_to),
        wish,
    };
    let env = Envelope {
        id: job,
        trace_id: ctx.trace_id(),
        payload: prompt,
    };
    d.job(PROMPT_SUBJECT, &env);
    let mut text = tf(lang, T::PhotoTaking, &[("name", name)]);
    let left = (ctx.photos.per_user - r.by_user).min(ctx.photos.per_dialog - r.by_dialog) - 1;
    if left < SHOW_LEFT_BELOW {
        text = format!("{text} {}", tf(lang, T::PhotoLeft, &[("left", &left)]));
    }
    manage::tell(ctx, d, callback, &text);
    Ok(())
}
