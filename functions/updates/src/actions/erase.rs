//! `/delete_my_data`: the user sees what the bot keeps about them and, after a confirmation
//! button, it is all erased in the update's own transaction (`erase_user`: the user, their
//! dialogs, messages, photos, remembered facts, statistics, the jobs, sends and dead letters that name them).
//! The message saying so is the erasure's last effect: once fn-send has sent it, it drops the
//! erased jobs' status from the KV bucket and the rows its own sending left (`erase_traces`).

use companion::locale::{T, t, tf};
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::store::users;

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
            let (dialogs, messages, photos, facts) = users::kept(c, user).await?;
            let text = tf(
                lang,
                T::EraseAsk,
                &[
                    ("dialogs", &dialogs),
                    ("messages", &messages),
                    ("photos", &photos),
                    ("facts", &facts),
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
            let id = Uuid::new_v4();
            let erased = users::erase(c, user, id).await?;
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
