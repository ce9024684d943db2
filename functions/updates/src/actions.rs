//! What each [`Action`] does, inside the update's transaction: database writes, outbox jobs
//! and the answer to the user. Everything said comes from `shared::texts`.

use shared::envelope::{Envelope, PromptJob, ReplyJob};
use shared::telegram::{ButtonRow, Telegram, photo_button};
use shared::topology::{PROMPT_SUBJECT, REPLY_SUBJECT};
use shared::{HandlerError, texts};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::route::{AGE_CALLBACK, Action, Sender, persona_callback};
use crate::store::{self, OutboxJob};

/// What an action needs besides the transaction.
pub struct Ctx<'a> {
    /// Bot API client.
    pub tg: &'a Telegram,
    /// The update being handled.
    pub update_id: i64,
    /// Who sent it.
    pub sender: &'a Sender,
    /// Whether the sender confirmed 18+.
    pub confirmed: bool,
    /// Longest accepted message.
    pub max_chars: usize,
}

/// Work to do after the commit.
#[derive(Debug, Default)]
pub struct After {
    /// Show "typing…" while the reply is generated.
    pub typing: bool,
    /// Jobs written to the outbox, to publish.
    pub jobs: Vec<OutboxJob>,
}

/// Applies one action.
pub async fn apply(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    action: Action,
) -> Result<After, HandlerError> {
    let chat = ctx.sender.chat_id;
    let needs_age = matches!(
        action,
        Action::Text(_) | Action::Photo { .. } | Action::ChoosePersona { .. }
    );
    if needs_age && !ctx.confirmed {
        if let Action::Photo {
            callback: Some(id), ..
        }
        | Action::ChoosePersona { callback: id, .. } = &action
        {
            ctx.tg.answer_callback(id, None).await;
        }
        ctx.tg
            .send_text(chat, texts::AGE_GATE, age_button())
            .await?;
        return Ok(After::default());
    }
    match action {
        Action::Start if ctx.confirmed => {
            let text = format!("{}\n\n{}", texts::WELCOME, texts::CHOOSE_PERSONA);
            send_persona_menu(c, ctx, &text).await?;
        }
        Action::Start => {
            let text = format!("{}\n\n{}", texts::WELCOME, texts::AGE_GATE);
            ctx.tg.send_text(chat, &text, age_button()).await?;
        }
        Action::Help => {
            ctx.tg.send_text(chat, texts::HELP, Vec::new()).await?;
        }
        Action::ConfirmAge { callback } => {
            store::confirm_age(c, ctx.sender.user_id).await?;
            ctx.tg.answer_callback(&callback, None).await;
            send_persona_menu(c, ctx, texts::AGE_CONFIRMED).await?;
        }
        Action::ChoosePersona { girl_id, callback } => {
            ctx.tg.answer_callback(&callback, None).await;
            let seed = (Uuid::new_v4().as_u64_pair().0 & 0xffff_ffff) as i64;
            match store::open_dialog(c, ctx.sender.user_id, girl_id, seed).await? {
                Some((dialog, greeting)) => {
                    ctx.tg
                        .send_text(chat, &greeting, photo_button(dialog))
                        .await?;
                }
                None => {
                    ctx.tg
                        .send_text(chat, texts::PERSONA_GONE, Vec::new())
                        .await?;
                }
            }
        }
        Action::Text(text) => return text_message(c, ctx, &text).await,
        Action::Photo {
            dialog_id,
            callback,
        } => return photo(c, ctx, dialog_id, callback).await,
        Action::UnknownCommand => {
            ctx.tg
                .send_text(chat, texts::UNKNOWN_COMMAND, Vec::new())
                .await?;
        }
        Action::Unsupported => {
            ctx.tg
                .send_text(chat, texts::UNSUPPORTED, Vec::new())
                .await?;
        }
        Action::StaleButton { callback } => {
            ctx.tg
                .answer_callback(&callback, Some(texts::STALE_BUTTON))
                .await
        }
    }
    Ok(After::default())
}

async fn text_message(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    text: &str,
) -> Result<After, HandlerError> {
    let chat = ctx.sender.chat_id;
    if text.chars().count() > ctx.max_chars {
        ctx.tg.send_text(chat, texts::TOO_LONG, Vec::new()).await?;
        return Ok(After::default());
    }
    let Some(dialog_id) = store::active_dialog(c, ctx.sender.user_id).await? else {
        ctx.tg
            .send_text(chat, texts::PICK_FIRST, Vec::new())
            .await?;
        return Ok(After::default());
    };
    let user_message_id =
        store::store_user_message(c, dialog_id, ctx.update_id, text, ctx.sender.user_id).await?;
    let job = ReplyJob {
        chat_id: chat,
        user_id: ctx.sender.user_id,
        dialog_id,
        user_message_id,
    };
    let job = outbox(c, ctx, REPLY_SUBJECT, job).await?;
    Ok(After {
        typing: true,
        jobs: vec![job],
    })
}

async fn photo(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    dialog: Option<i64>,
    callback: Option<String>,
) -> Result<After, HandlerError> {
    let chat = ctx.sender.chat_id;
    let user = ctx.sender.user_id;
    let dialog_id = match dialog {
        Some(d) if store::owns_dialog(c, user, d).await? => Some(d),
        Some(_) => None,
        None => store::active_dialog(c, user).await?,
    };
    let Some(dialog_id) = dialog_id else {
        match callback {
            Some(id) => ctx.tg.answer_callback(&id, Some(texts::PICK_FIRST)).await,
            None => drop(
                ctx.tg
                    .send_text(chat, texts::PICK_FIRST, Vec::new())
                    .await?,
            ),
        }
        return Ok(After::default());
    };
    let job = outbox(
        c,
        ctx,
        PROMPT_SUBJECT,
        PromptJob {
            chat_id: chat,
            user_id: user,
            dialog_id,
        },
    )
    .await?;
    match callback {
        Some(id) => {
            ctx.tg
                .answer_callback(&id, Some(texts::PHOTO_ON_ITS_WAY))
                .await
        }
        None => drop(
            ctx.tg
                .send_text(chat, texts::PHOTO_ON_ITS_WAY, Vec::new())
                .await?,
        ),
    }
    Ok(After {
        typing: false,
        jobs: vec![job],
    })
}

async fn outbox<T: serde::Serialize>(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    subject: &str,
    job: T,
) -> Result<OutboxJob, HandlerError> {
    let env = Envelope::new(format!("upd-{}", ctx.update_id), job);
    let payload = serde_json::to_vec(&env).expect("jobs serialize");
    let job = OutboxJob {
        job_id: env.id,
        subject: subject.to_owned(),
        payload,
    };
    store::outbox(c, ctx.update_id, &job).await?;
    Ok(job)
}

async fn send_persona_menu(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    text: &str,
) -> Result<(), HandlerError> {
    let list = store::personas(c).await?;
    if list.is_empty() {
        ctx.tg
            .send_text(ctx.sender.chat_id, texts::NO_PERSONAS, Vec::new())
            .await?;
        return Ok(());
    }
    let rows = list
        .into_iter()
        .map(|(id, name)| vec![(name, persona_callback(id))])
        .collect();
    ctx.tg.send_text(ctx.sender.chat_id, text, rows).await?;
    Ok(())
}

fn age_button() -> Vec<ButtonRow> {
    vec![vec![(
        texts::AGE_CONFIRM_BUTTON.to_owned(),
        AGE_CALLBACK.to_owned(),
    )]]
}
