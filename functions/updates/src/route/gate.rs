//! Two questions every [`Action`] answers, each a table listing every action with no
//! catch-all: whether it waits for the 18+ confirmation, and which button press (callback
//! query) it came from.

use super::Action;

impl Action {
    /// Whether an action is only for users who confirmed 18+. Every action is listed, with no
    /// catch-all: a new action does not compile until it is placed on one side of the gate.
    pub fn needs_age(&self) -> bool {
        match self {
            Action::Text(_)
            | Action::Photo { .. }
            | Action::ChoosePersona { .. }
            | Action::NewDialog
            | Action::Personas
            | Action::Swipe { .. }
            | Action::Retry { .. }
            | Action::Regenerate { .. }
            | Action::Stop { .. }
            | Action::Chats { .. }
            | Action::Open { .. }
            | Action::Rename { .. }
            | Action::Delete { .. }
            | Action::Export
            | Action::Memory { .. }
            | Action::Settings { .. }
            | Action::Nudges { .. }
            | Action::Edited { .. } => true,
            Action::Voice(v) => v.needs_age(),
            Action::Start
            | Action::Lang { .. }
            | Action::Help
            | Action::ConfirmAge { .. }
            | Action::DeclineAge { .. }
            | Action::Admin { .. }
            | Action::EraseMe { .. }
            | Action::UnknownCommand
            | Action::Unsupported
            | Action::StaleButton { .. } => false,
        }
    }

    /// The id of the pressed button's callback query, if the action came from one.
    pub fn callback(&self) -> Option<&str> {
        match self {
            Action::ConfirmAge { callback }
            | Action::DeclineAge { callback }
            | Action::ChoosePersona { callback, .. }
            | Action::Retry { callback, .. }
            | Action::Swipe { callback, .. }
            | Action::Stop { callback, .. }
            | Action::Open { callback, .. }
            | Action::Rename { callback, .. }
            | Action::Delete { callback, .. }
            | Action::Nudges { callback, .. }
            | Action::StaleButton { callback } => Some(callback),
            Action::Photo { callback, .. }
            | Action::Admin { callback, .. }
            | Action::EraseMe { callback, .. }
            | Action::Memory { callback, .. }
            | Action::Regenerate { callback, .. }
            | Action::Chats { callback, .. }
            | Action::Lang { callback, .. }
            | Action::Settings { callback, .. } => callback.as_deref(),
            Action::Voice(v) => v.callback(),
            Action::Start
            | Action::Help
            | Action::NewDialog
            | Action::Personas
            | Action::Export
            | Action::Text(_)
            | Action::Edited { .. }
            | Action::UnknownCommand
            | Action::Unsupported => None,
        }
    }
}
