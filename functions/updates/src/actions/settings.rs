//! `/lang`: the languages offered as buttons; a language button sets the user's choice (the
//! language itself is decided by `Lang::for_user`, from that choice and Telegram's code).

use companion::locale::{Lang, T, t};
use companion::ui::buttons::Button;
use runtime::HandlerError;
use runtime::effects::Decision;
use sqlx::PgConnection;

use crate::ctx::Ctx;
use crate::store::users;

/// `/lang` offers the languages; a language button sets it.
pub async fn lang(
    c: &mut PgConnection,
    ctx: &Ctx<'_>,
    d: &mut Decision,
    lang: Option<Lang>,
    callback: Option<String>,
) -> Result<(), HandlerError> {
    let chat = ctx.sender.chat_id;
    let Some(lang) = lang else {
        let row = Lang::ALL
            .iter()
            .map(|l| (l.name().to_owned(), Button::Lang(*l).encode()))
            .collect();
        d.text(chat, t(ctx.lang, T::LangChoose), &[row]);
        return Ok(());
    };
    users::set_lang(c, ctx.sender.user_id, lang.code()).await?;
    if let Some(id) = &callback {
        d.answer_callback(chat, id, None);
    }
    d.text(chat, t(lang, T::LangSet), &[]);
    Ok(())
}
