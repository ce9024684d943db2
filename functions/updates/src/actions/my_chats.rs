//! "💬 My chats": the user's dialogs a page at a time (title, date, message count), continue
//! one, rename one (the next text is its title), delete one after a confirmation shown in
//! place (what she learned about the user in it is forgotten with it, and the confirmation
//! says so); and how a dialog taken up again is announced.

use companion::locale::texts;
use companion::locale::{Lang, T, t, tf};
use companion::ui::buttons::Button;
use companion::ui::keyboards::photo_button;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::telegram::ButtonRow;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::store::dialogs::{self, Resumed};
use crate::store::{memory, my_chats, users};

/// Dialogs per page of the list.
const PER_PAGE: i64 = 5;
/// Longest dialog title.
const TITLE_LIMIT: usize = 60;

/// The list of the user's dialogs, page `page`: a new message for `/chats`, edited in place
/// for the list's own buttons.
pub async fn chats(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    page: i16,
    callback: Option<String>,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    if let Some(id) = &callback {
        d.answer_callback(chat, id, None);
    }
    let (text, rows) = list_page(c, ctx.sender.user_id, ctx.lang, page).await?;
    d.text_in(chat, shown, &text, &rows);
    Ok(())
}

async fn list_page(
    c: &mut PgConnection,
    user_id: i64,
    lang: Lang,
    page: i16,
) -> Result<(String, Vec<ButtonRow>), HandlerError> {
    let mut list = my_chats::list(c, user_id, page, PER_PAGE).await?;
    let mut page = page;
    if list.is_empty() && page > 0 {
        // The page emptied (deletions): show the first one.
        page = 0;
        list = my_chats::list(c, user_id, 0, PER_PAGE).await?;
    }
    let Some(total) = list.first().map(|l| l.total) else {
        return Ok((t(lang, T::ChatsEmpty).to_owned(), Vec::new()));
    };
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    let mut text = tf(
        lang,
        T::ChatsTitle,
        &[("page", &(page + 1)), ("pages", &pages)],
    );
    let mut rows = Vec::new();
    for (i, l) in list.iter().enumerate() {
        let n = i64::from(page) * PER_PAGE + i as i64 + 1;
        let date = l.updated_at.format("%Y-%m-%d");
        let title = texts::shorten(&l.title, 60);
        let args: [(&str, &dyn std::fmt::Display); 4] = [
            ("n", &n),
            ("title", &title),
            ("date", &date),
            ("count", &l.messages),
        ];
        text += &format!("\n\n{}", tf(lang, T::ChatLine, &args));
        rows.push(vec![
            (
                tf(lang, T::ChatOpenButton, &[("n", &n)]),
                Button::Open(l.id).encode(),
            ),
            (
                tf(lang, T::ChatRenameButton, &[("n", &n)]),
                Button::Rename(l.id).encode(),
            ),
            (
                tf(lang, T::ChatDeleteButton, &[("n", &n)]),
                Button::Delete(l.id).encode(),
            ),
        ]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push((
            t(lang, T::PreviousPage).to_owned(),
            Button::Chats(page - 1).encode(),
        ));
    }
    if i64::from(page + 1) < pages {
        nav.push((
            t(lang, T::NextPage).to_owned(),
            Button::Chats(page + 1).encode(),
        ));
    }
    if !nav.is_empty() {
        rows.push(nav);
    }
    Ok((text, rows))
}

/// Continues a dialog from the list.
pub async fn open(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog_id: i64,
    callback: &str,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    match dialogs::open(c, ctx.sender.user_id, dialog_id).await? {
        Some(r) => {
            d.answer_callback(chat, callback, None);
            resumed(ctx, d, &r);
        }
        None => d.answer_callback(chat, callback, Some(t(ctx.lang, T::ChatGone))),
    }
    Ok(())
}

/// ✏️: asks for the title; the user's next text is it.
pub async fn rename(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog_id: i64,
    callback: &str,
) -> Result<(), HandlerError> {
    let (chat, user) = (ctx.sender.chat_id, ctx.sender.user_id);
    let Some(title) = title_or_gone(c, ctx, d, dialog_id, callback).await? else {
        return Ok(());
    };
    users::renaming(c, user, Some(dialog_id)).await?;
    d.answer_callback(chat, callback, None);
    let args: [(&str, &dyn std::fmt::Display); 2] = [("title", &title), ("limit", &TITLE_LIMIT)];
    d.text(chat, &tf(ctx.lang, T::RenamePrompt, &args), &[]);
    Ok(())
}

/// The text that follows ✏️: the dialog's new title.
pub async fn renamed(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog_id: i64,
    title: &str,
) -> Result<(), HandlerError> {
    let (chat, user) = (ctx.sender.chat_id, ctx.sender.user_id);
    let title = title.trim();
    if title.chars().count() > TITLE_LIMIT {
        let text = tf(ctx.lang, T::RenameTooLong, &[("limit", &TITLE_LIMIT)]);
        d.text(chat, &text, &[]);
        return Ok(());
    }
    users::renaming(c, user, None).await?;
    if !title.is_empty() && my_chats::rename(c, user, dialog_id, title).await? {
        d.text(chat, &tf(ctx.lang, T::Renamed, &[("title", &title)]), &[]);
    } else {
        d.text(chat, t(ctx.lang, T::ChatGone), &[]);
    }
    Ok(())
}

/// 🗑: asks to confirm in place; confirmed, deletes and shows the list again.
pub async fn delete(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog_id: i64,
    confirmed: bool,
    callback: &str,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let (chat, user, lang) = (ctx.sender.chat_id, ctx.sender.user_id, ctx.lang);
    let (text, rows) = if confirmed {
        let Some(title) = my_chats::delete(c, user, dialog_id).await? else {
            d.answer_callback(chat, callback, Some(t(lang, T::ChatGone)));
            return Ok(());
        };
        d.answer_callback(
            chat,
            callback,
            Some(&tf(lang, T::Deleted, &[("title", &title)])),
        );
        list_page(c, user, lang, 0).await?
    } else {
        let Some(title) = title_or_gone(c, ctx, d, dialog_id, callback).await? else {
            return Ok(());
        };
        d.answer_callback(chat, callback, None);
        let rows = vec![vec![
            (
                t(lang, T::DeleteYes).to_owned(),
                Button::DeleteConfirmed(dialog_id).encode(),
            ),
            (
                t(lang, T::PreviousPage).to_owned(),
                Button::Chats(0).encode(),
            ),
        ]];
        let mut text = tf(lang, T::DeleteConfirm, &[("title", &title)]);
        let learned = memory::learned_in(c, user, dialog_id).await?;
        if learned > 0 {
            let note = tf(lang, T::DeleteConfirmMemory, &[("count", &learned)]);
            text = format!("{text}\n\n{note}");
        }
        (text, rows)
    };
    d.text_in(chat, shown, &text, &rows);
    Ok(())
}

/// The title of the user's dialog `dialog_id`; when it is gone, the pressed button says so.
async fn title_or_gone(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    dialog_id: i64,
    callback: &str,
) -> Result<Option<String>, HandlerError> {
    let title = my_chats::title(c, ctx.sender.user_id, dialog_id).await?;
    if title.is_none() {
        d.answer_callback(ctx.sender.chat_id, callback, Some(t(ctx.lang, T::ChatGone)));
    }
    Ok(title)
}

/// Tells the user the dialog they took up again continues, with her last message.
pub fn resumed(ctx: &Ctx<'_>, d: &mut Decision, r: &Resumed) {
    let text = texts::resumed(ctx.lang, &r.name, r.messages, r.last.as_deref());
    d.text(
        ctx.sender.chat_id,
        &text,
        &photo_button(ctx.lang, r.dialog_id),
    );
}
