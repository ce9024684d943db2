//! What the user chooses from, inside the update's transaction: the persona picker (name,
//! age and pitch in the user's language, then "💬 My chats"), the 18+ button, and a new dialog
//! opened with the persona's greeting (its alternates browsable in place).

use companion::locale::{Lang, T, t};
use companion::ui::buttons::Button;
use companion::ui::keyboards::Under;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::telegram::ButtonRow;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::actions::Ctx;
use crate::dialogs;

/// Opens a new dialog with `girl_id` and sends her greeting.
pub async fn new_dialog(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    girl_id: i32,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let seed = (Uuid::new_v4().as_u64_pair().0 & 0xffff_ffff) as i64;
    match dialogs::open_dialog(c, ctx.sender.user_id, girl_id, seed).await? {
        Some(o) => {
            let under = Under {
                message_id: Some(o.message_id),
                variants: i16::try_from(o.variants).unwrap_or(i16::MAX),
                ..Under::plain(o.dialog_id, None)
            };
            d.text(chat, &o.greeting, &under.rows(ctx.lang));
        }
        None => {
            d.text(chat, t(ctx.lang, T::PersonaGone), &[]);
        }
    }
    Ok(())
}

pub async fn persona_menu(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    text: &str,
) -> Result<(), HandlerError> {
    let list = dialogs::personas(c).await?;
    if list.is_empty() {
        d.text(ctx.sender.chat_id, t(ctx.lang, T::NoPersonas), &[]);
        return Ok(());
    }
    // Each persona: her avatar with name, age and pitch, and a button; then the choices again
    // under the question, with "My chats".
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
                dialogs::avatar_upload(c, p.id, effect).await?;
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

pub fn age_button(lang: Lang) -> Vec<ButtonRow> {
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
