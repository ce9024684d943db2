//! What the companion bot knows: the jobs its stages pass each other, the persona cards,
//! the user's language and every text the bot says, buttons and keyboards, the admin
//! panel's requests, the content checks (minor safety, explicitness, nudity), and the
//! photo slot each dialog may hold.
//!
//! Built on the `runtime` crate (how a function lives), which never imports this one.

pub mod content;
pub mod jobs;
pub mod locale;
pub mod nudges;
pub mod personas;
pub mod photos;
pub mod ui;
