//! What each kind of update costs the user's budget (`store::budget_take`): about what it costs
//! the system — LLM calls, renders, uploads, sends.

use super::Action;

impl Action {
    /// What the action costs the user's budget, in texts (a text, an edit or another version
    /// is one LLM call: 1): about what it costs the system. Every action is listed.
    pub fn cost(&self) -> f64 {
        match self {
            Action::Text(_)
            | Action::Edited { .. }
            | Action::Retry { .. }
            | Action::Regenerate { .. } => 1.0,
            // A render, the scene call and an upload.
            Action::Photo { .. } => 3.0,
            // The persona menu: a message and a photo per persona.
            Action::Start | Action::Personas | Action::ConfirmAge { .. } => 2.0,
            // A greeting (and perhaps the persona's photo).
            Action::ChoosePersona { .. } | Action::NewDialog => 1.0,
            // Two files of the whole dialog.
            Action::Export => 4.0,
            Action::Help | Action::UnknownCommand | Action::Unsupported | Action::Admin { .. } => {
                0.5
            }
            Action::Swipe { .. }
            | Action::Stop { .. }
            | Action::Chats { .. }
            | Action::Open { .. }
            | Action::Rename { .. }
            | Action::Delete { .. }
            | Action::Lang { .. }
            | Action::Settings { .. }
            | Action::Nudges { .. }
            | Action::DeclineAge { .. }
            | Action::EraseMe { .. }
            | Action::Memory { .. }
            | Action::StaleButton { .. } => 0.25,
            Action::Voice(v) => v.cost(),
        }
    }
}
