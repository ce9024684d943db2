//! Every Postgres statement fn-updates runs, grouped by what it touches. The hot path — a text
//! message from a confirmed user in an open dialog — is one autocommitted statement
//! ([`turn::text_turn`]); every other update runs [`updates::begin_update`] and its action's
//! statements in one transaction.
//!
//! | file | what it touches |
//! |---|---|
//! | `turn` | the hot path: the whole text turn, reply job included, in one statement |
//! | `updates` | an update's claim and its user's row as its work opens (and a stuck one given up) |
//! | `budget` | the user's rate (GCRA) and their chat's queue of sends |
//! | `users` | the user's settings: 18+, language, rename in progress, export, erasure |
//! | `dialogs` | a user's dialogs: open, resume, the current and active one, the minor mark |
//! | `my_chats` | "💬 My chats": the list of dialogs, a title, rename, delete |
//! | `messages` | the messages of a dialog: store, edit, swipe, stop, retry, export |
//! | `memory` | `/memory`: the facts a persona remembers, forgetting them, sharing them |
//! | `personas` | the persona picker and the avatars' uploads |
//! | `bot_commands` | Telegram's command menu, as last set |
//! | `nudges` | `/settings` (the clock, quiet hours) and who may write first |
//! | `voice` | voice notes: seconds used, transcriptions, the "answer in voice" setting |
//!
//! The photo slot's statements live with the rest of its life in `companion::photos`.

pub mod bot_commands;
pub mod budget;
pub mod dialogs;
pub mod memory;
pub mod messages;
pub mod my_chats;
pub mod nudges;
pub mod personas;
pub mod turn;
pub mod updates;
pub mod users;
pub mod voice;

use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;

use crate::route::Sender;

/// Binds `$1`–`$6`: the update id, then the sender's chat, id, first name, username, language.
fn with_sender<'q, T>(
    q: QueryAs<'q, Postgres, T, PgArguments>,
    update_id: i64,
    s: &'q Sender,
) -> QueryAs<'q, Postgres, T, PgArguments> {
    q.bind(update_id)
        .bind(s.chat_id)
        .bind(s.user_id)
        .bind(&s.first_name)
        .bind(&s.username)
        .bind(&s.language)
}
