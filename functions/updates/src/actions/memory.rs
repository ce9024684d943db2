//! `/memory`: what the current persona remembers about the user, a page at a time, with 🗑
//! under each fact, "forget everything" (asked first, in place) and a toggle that shares the
//! facts with every persona. Presses edit the view in place; the facts themselves are written
//! by fn-reply's memory extraction.

use companion::locale::{Lang, T, t, tf};
use companion::ui::buttons::Button;
use companion::ui::memory::MemoryPress;
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::telegram::ButtonRow;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::store::memory::{self, Whose};

/// Facts per page.
const PER_PAGE: i64 = 8;
/// 🗑 buttons per row.
const PER_ROW: usize = 4;

/// Applies a press on the view (or `/memory`: its first page, as a new message).
pub async fn memory(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    press: MemoryPress,
    callback: Option<String>,
    shown: Option<i64>,
) -> Result<(), HandlerError> {
    let (chat, user, lang) = (ctx.sender.chat_id, ctx.sender.user_id, ctx.lang);
    let Some(mut w) = memory::whose(c, user).await? else {
        ctx.tell(d, callback.as_deref(), t(lang, T::PickFirst));
        return Ok(());
    };
    let mut toast = None;
    let page = match press {
        MemoryPress::Page(page) => page,
        MemoryPress::Forget { fact, page } => {
            let gone = memory::forget(c, user, fact).await?;
            toast = Some(t(lang, if gone { T::MemoryForgot } else { T::MemoryGone }));
            page
        }
        MemoryPress::ForgetAll(false) => {
            if let Some(id) = &callback {
                d.answer_callback(chat, id, None);
            }
            let rows = vec![vec![
                (
                    t(lang, T::MemoryForgetAllYes).to_owned(),
                    Button::Memory(MemoryPress::ForgetAll(true)).encode(),
                ),
                (
                    t(lang, T::PreviousPage).to_owned(),
                    Button::Memory(MemoryPress::Page(0)).encode(),
                ),
            ]];
            let text = tf(lang, T::MemoryForgetAllAsk, &[("name", &w.name)]);
            d.text_in(chat, shown, &text, &rows);
            return Ok(());
        }
        MemoryPress::ForgetAll(true) => {
            let count = memory::forget_all(c, user, &w).await?;
            if let Some(id) = &callback {
                d.answer_callback(chat, id, None);
            }
            let args: [(&str, &dyn std::fmt::Display); 2] = [("name", &w.name), ("count", &count)];
            d.text_in(chat, shown, &tf(lang, T::MemoryForgotAll, &args), &[]);
            return Ok(());
        }
        MemoryPress::Share(on) => {
            memory::share(c, user, on).await?;
            w.shared = on;
            let key = if on {
                T::MemorySharedNote
            } else {
                T::MemoryOwnNote
            };
            toast = Some(t(lang, key));
            0
        }
    };
    if let Some(id) = &callback {
        d.answer_callback(chat, id, toast);
    }
    let (text, rows) = view(c, user, &w, lang, page).await?;
    d.text_in(chat, shown, &text, &rows);
    Ok(())
}

/// Page `page` of what persona `w` remembers (the first page when that one emptied).
async fn view(
    c: &mut PgConnection,
    user: i64,
    w: &Whose,
    lang: Lang,
    page: i16,
) -> Result<(String, Vec<ButtonRow>), HandlerError> {
    let mut page = page;
    let mut list = memory::page(c, user, w, page, PER_PAGE).await?;
    if list.is_empty() && page > 0 {
        page = 0;
        list = memory::page(c, user, w, 0, PER_PAGE).await?;
    }
    let name: &dyn std::fmt::Display = &w.name;
    let note = t(
        lang,
        if w.shared {
            T::MemorySharedNote
        } else {
            T::MemoryOwnNote
        },
    );
    let share = if w.shared {
        (T::MemoryUnshareButton, MemoryPress::Share(false))
    } else {
        (T::MemoryShareButton, MemoryPress::Share(true))
    };
    let share_row = vec![(
        t(lang, share.0).to_owned(),
        Button::Memory(share.1).encode(),
    )];
    let Some(total) = list.first().map(|l| l.total) else {
        let text = format!("{}\n\n{note}", tf(lang, T::MemoryEmpty, &[("name", name)]));
        return Ok((text, vec![share_row]));
    };
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    let args: [(&str, &dyn std::fmt::Display); 3] =
        [("name", name), ("page", &(page + 1)), ("pages", &pages)];
    let mut text = tf(lang, T::MemoryTitle, &args);
    let mut forget = Vec::new();
    for (i, l) in list.iter().enumerate() {
        let n = i64::from(page) * PER_PAGE + i as i64 + 1;
        let from = l
            .learned_by
            .as_ref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        text += &format!("\n{n}. {}{from}", l.fact);
        let press = MemoryPress::Forget { fact: l.id, page };
        let label = tf(lang, T::MemoryForgetButton, &[("n", &n)]);
        forget.push((label, Button::Memory(press).encode()));
    }
    text += &format!("\n\n{note}");
    let mut rows: Vec<ButtonRow> = forget.chunks(PER_ROW).map(<[_]>::to_vec).collect();
    let mut nav = Vec::new();
    if page > 0 {
        let back = Button::Memory(MemoryPress::Page(page - 1)).encode();
        nav.push((t(lang, T::PreviousPage).to_owned(), back));
    }
    if i64::from(page + 1) < pages {
        let more = Button::Memory(MemoryPress::Page(page + 1)).encode();
        nav.push((t(lang, T::NextPage).to_owned(), more));
    }
    if !nav.is_empty() {
        rows.push(nav);
    }
    let all = Button::Memory(MemoryPress::ForgetAll(false)).encode();
    rows.push(vec![(t(lang, T::MemoryForgetAllButton).to_owned(), all)]);
    rows.push(share_row);
    Ok((text, rows))
}
