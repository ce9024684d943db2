//! `/delete_my_data`: the user sees what the bot keeps about them and, after a confirmation
//! button, it is all erased in the update's own transaction (`erase_user`: the user, their
//! dialogs, messages, photos, statistics, the jobs, sends and dead letters that name them).
//! The message saying so is the erasure's last effect: once fn-send has sent it, it drops the
//! erased jobs' status from the KV bucket and the rows its own sending left (`erase_traces`).

use companion::locale::{T, t, tf};
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::actions::Ctx;

/// What an erasure removed.
#[derive(Debug, sqlx::FromRow)]
struct Erased {
    dialogs: i64,
    messages: i64,
    photos: i64,
    jobs: Vec<Uuid>,
}

/// Asks (`choice` none), erases (`Some(true)`) or leaves everything as it is (`Some(false)`).
pub async fn erase_me(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    choice: Option<bool>,
    callback: Option<String>,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let (chat, user, lang) = (ctx.sender.chat_id, ctx.sender.user_id, ctx.lang);
    if let Some(id) = &callback {
        d.answer_callback(chat, id, None);
    }
    match choice {
        None => {
            let (dialogs, messages, photos): (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM dialogs WHERE user_id = $1),
                        (SELECT count(*) FROM chat_messages m JOIN dialogs d ON d.id = m.dialog_id
                         WHERE d.user_id = $1 AND m.role <> 'system'),
                        (SELECT count(*) FROM photos WHERE user_id = $1)",
            )
            .bind(user)
            .fetch_one(&mut *c)
            .await?;
            let text = tf(
                lang,
                T::EraseAsk,
                &[
                    ("dialogs", &dialogs),
                    ("messages", &messages),
                    ("photos", &photos),
                ],
            );
            let buttons = vec![
                vec![(
                    t(lang, T::EraseYes).to_owned(),
                    Button::EraseMe(true).encode(),
                )],
                vec![(
                    t(lang, T::EraseNo).to_owned(),
                    Button::EraseMe(false).encode(),
                )],
            ];
            d.text(chat, &text, &buttons);
        }
        Some(false) => d.text_in(chat, shown, t(lang, T::EraseKept), &[]),
        Some(true) => {
            let erased: Erased = sqlx::query_as("SELECT * FROM erase_user($1)")
                .bind(user)
                .fetch_one(&mut *c)
                .await?;
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO erasures (id, dialogs, messages, photos, jobs)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(erased.dialogs)
            .bind(erased.messages)
            .bind(erased.photos)
            .bind(&erased.jobs)
            .execute(&mut *c)
            .await?;
            tracing::info!(erasure = %id, jobs = erased.jobs.len(), "a user erased their data");
            let text = tf(
                lang,
                T::Erased,
                &[
                    ("dialogs", &erased.dialogs),
                    ("messages", &erased.messages),
                    ("photos", &erased.photos),
                ],
            );
            d.text_in(chat, shown, &text, &[]);
            d.erasure(id);
        }
    }
    Ok(())
}
