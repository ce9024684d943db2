//! Every sentence the bot says to users, in one place (English for now; the locale work
//! adds Russian beside it). Handlers never spell user-facing text themselves.

/// Greeting on `/start`.
pub const WELCOME: &str = "Hi! I'm a role-play companion bot. Pick someone to talk to, chat as long as \
you like, and tap 📸 Photo whenever you want a picture of the moment.";
/// The 18+ gate.
pub const AGE_GATE: &str =
    "This bot is for adults only. Please confirm that you are 18 or older to continue.";
/// Button confirming age.
pub const AGE_CONFIRM_BUTTON: &str = "✅ I am 18 or older";
/// After the confirmation.
pub const AGE_CONFIRMED: &str = "Thank you! Who would you like to talk to?";
/// Above the persona keyboard.
pub const CHOOSE_PERSONA: &str = "Who would you like to talk to?";
/// When no persona is loaded.
pub const NO_PERSONAS: &str = "No characters are available right now. Please try again later.";
/// Photo button on replies.
pub const PHOTO_BUTTON: &str = "📸 Photo";
/// Text sent before a dialog exists.
pub const PICK_FIRST: &str = "Please pick someone to talk to first: send /start.";
/// Acknowledges a photo request.
pub const PHOTO_ON_ITS_WAY: &str = "📸 One moment, I'm getting a photo ready…";
/// Non-text messages.
pub const UNSUPPORTED: &str =
    "I can only read text messages for now. Please write to me in words 🙂";
/// Too-long messages, naming the configured limit.
pub fn too_long(limit: usize) -> String {
    format!(
        "That message is too long for me: I can read up to {limit} characters at a time. \
Please split it into shorter messages."
    )
}
/// Unknown commands.
pub const UNKNOWN_COMMAND: &str = "I don't know that command. Try /start or /photo.";
/// Polite failure notice when a job is given up on.
pub const SORRY: &str = "Sorry, something went wrong on my side and I couldn't finish that. \
Please try again in a moment.";
/// A persona that was removed.
pub const PERSONA_GONE: &str =
    "That character is no longer available. Send /start to pick another.";
/// Image blocked by the safety filter.
pub const PHOTO_BLOCKED: &str = "I can't make that picture: it mentions something that suggests a minor. \
Every character here is an adult, and so is every picture.";
/// `/help`.
pub const HELP: &str = "/start — pick a character\n/photo — ask for a photo of the current moment\n\
/help — this message";
/// A button from a keyboard that no longer applies.
pub const STALE_BUTTON: &str = "This button is out of date. Send /start to begin again.";
