//! Fields of a stored call that are ours, not Telegram's: fn-send reads them and takes them
//! out before the call is made.

/// In an edit's parameters: the effect whose message it edits (resolved by fn-send).
pub const EDIT_OF: &str = "edit_of";
/// In an edit's parameters: send it as a new message when that effect's message never went out.
pub const OR_SEND: &str = "or_send";
/// In a call's parameters: the erasure (`erasures.id`) whose final message this is.
pub const ERASURE: &str = "erasure";
/// In a call's parameters: the user the message is about (an admin's panel of their figures),
/// so their erasure finds it.
pub const ABOUT_USER: &str = "about_user";
/// Every field that is ours.
pub const OURS: [&str; 4] = [EDIT_OF, OR_SEND, ERASURE, ABOUT_USER];
