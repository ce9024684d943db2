//! The text of a command and the data of a pressed button, read into an [`Action`].

use companion::ui::admin::{Request, Section};
use companion::ui::buttons::Button;

use super::voice::Voice;
use super::{Action, Setting};

/// A command (`/name [arguments]`, `/name@bot`).
pub(super) fn command(text: &str) -> Action {
    let word = text.split_whitespace().next().unwrap_or_default();
    let name = word
        .trim_start_matches('/')
        .split('@')
        .next()
        .unwrap_or_default();
    match name.to_ascii_lowercase().as_str() {
        "start" => Action::Start,
        "help" => Action::Help,
        "new" => Action::NewDialog,
        "persona" => Action::Personas,
        "retry" => Action::Regenerate {
            message_id: None,
            callback: None,
            shown: None,
        },
        "chats" => Action::Chats {
            page: 0,
            callback: None,
            shown: None,
        },
        "lang" => Action::Lang {
            lang: None,
            callback: None,
        },
        "admin" => {
            let mut args = text.split_whitespace().skip(1);
            let about_user = match (args.next(), args.next()) {
                (Some("user"), Some(id)) => id.parse::<i64>().ok(),
                _ => None,
            };
            let section = if about_user.is_some() {
                companion::ui::admin::Section::Users
            } else {
                companion::ui::admin::Section::Overview
            };
            Action::Admin {
                request: companion::ui::admin::Request {
                    about_user,
                    ..companion::ui::admin::Request::section(section)
                },
                callback: None,
                shown: None,
            }
        }
        "settings" => Action::Settings {
            change: None,
            callback: None,
            shown: None,
        },
        "export" => Action::Export,
        "memory" => Action::Memory {
            press: companion::ui::memory::MemoryPress::Page(0),
            callback: None,
            shown: None,
        },
        "delete_my_data" => Action::EraseMe {
            choice: None,
            callback: None,
            shown: None,
        },
        "photo" => Action::Photo {
            dialog_id: None,
            callback: None,
            shown: None,
            wish: text
                .split_once(char::is_whitespace)
                .map(|(_, rest)| rest.trim().to_owned())
                .filter(|w| !w.is_empty()),
        },
        _ => Action::UnknownCommand,
    }
}

/// A pressed button, by its data; one we do not understand is stale.
pub(super) fn button(data: &str, callback: String, shown: Option<i64>) -> Action {
    match Button::decode(data) {
        Some(Button::ConfirmAge) => Action::ConfirmAge { callback },
        Some(Button::DeclineAge) => Action::DeclineAge { callback },
        Some(Button::Persona(girl_id)) => Action::ChoosePersona { girl_id, callback },
        Some(Button::Admin(section)) => admin(Request::section(section), callback, shown),
        Some(Button::AdminPage(section, page)) => admin(
            Request {
                page,
                ..Request::section(section)
            },
            callback,
            shown,
        ),
        Some(Button::AdminRetry(id)) => admin(
            Request {
                retry: Some(id),
                ..Request::section(Section::Health)
            },
            callback,
            shown,
        ),
        Some(Button::EraseMe(erase)) => Action::EraseMe {
            choice: Some(erase),
            callback: Some(callback),
            shown,
        },
        Some(Button::Speak { message, index }) => Action::Voice(Voice::Speak {
            message_id: message,
            index,
            callback,
        }),
        Some(Button::VoiceAnswers(on)) => Action::Voice(Voice::Settings {
            on: Some(on),
            callback: Some(callback),
            shown,
        }),
        Some(Button::Photo(id)) => Action::Photo {
            dialog_id: Some(id),
            callback: Some(callback),
            shown,
            wish: None,
        },
        Some(Button::Retry(message_id)) => Action::Retry {
            message_id,
            callback,
        },
        Some(Button::Swipe { message, index }) => Action::Swipe {
            message_id: message,
            index,
            callback,
            shown,
        },
        Some(Button::Regenerate(message_id)) => Action::Regenerate {
            message_id: Some(message_id),
            callback: Some(callback),
            shown,
        },
        Some(Button::Stop(message_id)) => Action::Stop {
            message_id,
            callback,
        },
        Some(Button::Chats(page)) => Action::Chats {
            page,
            callback: Some(callback),
            shown,
        },
        Some(Button::Open(dialog_id)) => Action::Open {
            dialog_id,
            callback,
        },
        Some(Button::Rename(dialog_id)) => Action::Rename {
            dialog_id,
            callback,
        },
        Some(Button::Delete(dialog_id)) => Action::Delete {
            dialog_id,
            confirmed: false,
            callback,
            shown,
        },
        Some(Button::DeleteConfirmed(dialog_id)) => Action::Delete {
            dialog_id,
            confirmed: true,
            callback,
            shown,
        },
        Some(Button::Lang(lang)) => Action::Lang {
            lang: Some(lang),
            callback: Some(callback),
        },
        Some(Button::Memory(press)) => Action::Memory {
            press,
            callback: Some(callback),
            shown,
        },
        Some(Button::Nudges { girl, on, settings }) => Action::Nudges {
            girl_id: girl,
            on,
            settings,
            callback,
            shown,
        },
        Some(Button::Zone(minutes)) => setting(Setting::Zone(minutes), callback, shown),
        Some(Button::Quiet(from, to)) => setting(Setting::Quiet(from, to), callback, shown),
        None => Action::StaleButton { callback },
    }
}

fn setting(change: Setting, callback: String, shown: Option<i64>) -> Action {
    Action::Settings {
        change: Some(change),
        callback: Some(callback),
        shown,
    }
}

fn admin(request: Request, callback: String, shown: Option<i64>) -> Action {
    Action::Admin {
        request,
        callback: Some(callback),
        shown,
    }
}
