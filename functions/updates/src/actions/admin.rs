//! `/admin` and the panel's buttons: handed to fn-admin as a job, for an admin in their own
//! private chat only; anyone else sees what an unknown command gets.

use companion::locale::T;
use companion::ui::admin::{AdminJob, Request};
use runtime::effects::Decision;
use runtime::envelope::Envelope;
use runtime::nats::topology::ADMIN_SUBJECT;

use crate::ctx::Ctx;

/// Queues the panel's `request` for fn-admin, or answers as if there were no panel.
pub fn admin(
    ctx: &Ctx<'_>,
    d: &mut Decision,
    request: Request,
    callback: Option<String>,
    shown: Option<i64>,
) {
    let chat = ctx.sender.chat_id;
    // Only in the admin's own private chat: an update claiming an admin's `from` in another
    // chat (a forged webhook call) shows the panel nowhere.
    if ctx.admins.contains(ctx.sender.user_id) && chat == ctx.sender.user_id {
        let job = AdminJob {
            chat_id: chat,
            user_id: ctx.sender.user_id,
            lang: ctx.lang,
            request,
            shown,
            callback,
        };
        d.job(ADMIN_SUBJECT, &Envelope::new(ctx.trace_id(), job));
    } else if let Some(callback) = callback {
        // A forwarded or replayed panel button: nothing happens.
        d.answer_callback(chat, &callback, None);
    } else {
        // Exactly what an unknown command gets: no hint that it exists.
        ctx.say(d, T::UnknownCommand);
    }
}
