//! What the user presses and the admin asks for: button payloads, keyboards, and the admin
//! panel's requests and ids.

pub mod admin;
pub mod buttons;
pub mod keyboards;
pub mod memory;
