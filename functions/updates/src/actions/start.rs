//! Getting to a dialog: `/start` and `/help`, the 18+ gate and its buttons, the persona picker
//! (name, age and pitch in the user's language, then "💬 My chats"), a persona's latest
//! dialog taken up again, and a new dialog opened with the persona's greeting (its alternates
//! browsable in place).

use companion::locale::{Lang, T, t};
use companion::ui::buttons::Button;
use companion::ui::keyboards::Under;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::telegram::ButtonRow;
use sqlx::PgConnection;
use uuid::Uuid;

use super::my_chats;
use crate::ctx::Ctx;
use crate::store::{dialogs, personas, users};

/// `/start`: the welcome, then the persona picker (or the 18+ gate).
pub async fn start(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
) -> Result<(), HandlerError> {
    if ctx.confirmed {
        let text = format!(
            "{}\n\n{}",
            t(ctx.lang, T::Welcome),
            t(ctx.lang, T::ChoosePersona)
        );
        persona_menu(c, ctx, d, &text).await
    } else {
        let text = format!("{}\n\n{}", t(ctx.lang, T::Welcome), t(ctx.lang, T::AgeGate));
        d.text(ctx.sender.chat_id, &text, &age_button(ctx.lang));
        Ok(())
    }
}

/// The 18+ gate, for an action only adults may take (the pressed button answered).
pub fn age_gate(ctx: &Ctx<'_>, d: &mut Decision, callback: Option<&str>) {
    if let Some(id) = callback {
        d.answer_callback(ctx.sender.chat_id, id, None);
    }
    d.text(
        ctx.sender.chat_id,
        t(ctx.lang, T::AgeGate),
        &age_button(ctx.lang),
    );
}

/// The "under 18" button.
pub fn decline_age(ctx: &Ctx<'_>, d: &mut Decision, callback: &str) {
    d.answer_callback(ctx.sender.chat_id, callback, None);
    ctx.say(d, T::AgeDeclined);
}

/// The 18+ confirmation button: recorded, then the persona picker.
pub async fn confirm_age(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    callback: &str,
) -> Result<(), HandlerError> {
    users::confirm_age(c, ctx.sender.user_id).await?;
    d.answer_callback(ctx.sender.chat_id, callback, None);
    persona_menu(c, ctx, d, t(ctx.lang, T::AgeConfirmed)).await
}

/// A persona button: her latest dialog taken up again, or a new one.
pub async fn choose_persona(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    girl_id: i32,
    callback: &str,
) -> Result<(), HandlerError> {
    d.answer_callback(ctx.sender.chat_id, callback, None);
    match dialogs::resume(c, ctx.sender.user_id, girl_id).await? {
        Some(r) => {
            my_chats::resumed(ctx, d, &r);
            Ok(())
        }
        None => open_dialog(c, ctx, d, girl_id).await,
    }
}

/// `/new`: a new dialog with the current persona, or the picker when there is none.
pub async fn new_dialog(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
) -> Result<(), HandlerError> {
    match dialogs::current_persona(c, ctx.sender.user_id).await? {
        Some(girl_id) => open_dialog(c, ctx, d, girl_id).await,
        None => personas(c, ctx, d).await,
    }
}

/// `/persona`: the persona picker.
pub async fn personas(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
) -> Result<(), HandlerError> {
    persona_menu(c, ctx, d, t(ctx.lang, T::ChoosePersona)).await
}

/// Opens a new dialog with `girl_id` and sends her greeting.
async fn open_dialog(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    girl_id: i32,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let seed = (Uuid::new_v4().as_u64_pair().0 & 0xffff_ffff) as i64;
    match dialogs::open_dialog(c, ctx.sender.user_id, girl_id, seed, ctx.lang).await? {
        Some(o) => {
            let under = Under {
                message_id: Some(o.message_id),
                variants: i16::try_from(o.variants).unwrap_or(i16::MAX),
                ..Under::plain(o.dialog_id, None)
            };
            d.text(chat, &o.greeting, &under.rows(ctx.lang));
        }
        None => ctx.say(d, T::PersonaGone),
    }
    Ok(())
}

/// The persona picker under `text`: each persona's avatar with name, age and pitch and a
/// button; then the choices again under the question, with "My chats".
async fn persona_menu(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
) -> Result<(), HandlerError> {
    let list = personas::personas(c).await?;
    if list.is_empty() {
        ctx.say(d, T::NoPersonas);
        return Ok(());
    }
    let (chat, lang) = (ctx.sender.chat_id, ctx.lang.code());
    for p in &list {
        let mut caption = format!("{}, {}", p.name, p.age);
        if let Some(pitch) = p.pitch.0.get(lang).or_else(|| p.pitch.0.get("en")) {
            caption += &format!(" — {pitch}");
        }
        let button = vec![vec![(
            format!("💬 {}", p.name),
            Button::Persona(p.id).encode(),
        )]];
        match (&p.avatar_file_id, &p.avatar) {
            (Some(file_id), _) => {
                d.photo_by_id(chat, file_id, &caption, &button);
                d.avatar_of(p.id);
            }
            (None, Some(png)) => {
                let effect = d.photo(chat, png.clone(), &caption, &button);
                personas::avatar_upload(c, p.id, effect).await?;
            }
            (None, None) => {
                d.text(chat, &caption, &button);
            }
        }
    }
    let rows: Vec<ButtonRow> = list
        .into_iter()
        .map(|p| vec![(format!("💬 {}", p.name), Button::Persona(p.id).encode())])
        .chain(std::iter::once(vec![(
            t(ctx.lang, T::ChatsButton).to_owned(),
            Button::Chats(0).encode(),
        )]))
        .collect();
    d.text(chat, text, &rows);
    Ok(())
}

/// The 18+ gate's buttons.
fn age_button(lang: Lang) -> Vec<ButtonRow> {
    vec![
        vec![(
            t(lang, T::AgeConfirmButton).to_owned(),
            Button::ConfirmAge.encode(),
        )],
        vec![(
            t(lang, T::AgeDeclineButton).to_owned(),
            Button::DeclineAge.encode(),
        )],
    ]
}
