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
/// Over the per-user message rate (said once per wait).
pub fn slow_down(seconds: u64) -> String {
    format!(
        "You're writing faster than I can keep up 🙂 Give me a moment: I'll read new messages \
again in about {seconds} s. Messages sent before then go unanswered."
    )
}
/// Unknown commands.
pub const UNKNOWN_COMMAND: &str = "I don't know that command. Send /help to see what I understand.";
/// Polite failure notice when a job is given up on.
pub const SORRY: &str = "Sorry, something went wrong on my side and I couldn't finish that. \
Please try again in a moment.";
/// Under the failure notice of a reply.
pub const TRY_AGAIN_BUTTON: &str = "🔁 Try again";
/// "Try again" pressed for a message that needs nothing.
pub const NOTHING_TO_RETRY: &str = "That message already has its answer.";
/// A persona that was removed.
pub const PERSONA_GONE: &str =
    "That character is no longer available. Send /start to pick another.";
/// Image blocked by the safety filter.
pub const PHOTO_BLOCKED: &str = "I can't make that picture: it mentions something that suggests a minor. \
Every character here is an adult, and so is every picture.";
/// `/help`.
pub const HELP: &str = "/start — welcome and the list of characters\n\
/persona — talk to someone else (your latest chat with her continues)\n\
/new — start a new chat with the current character\n\
/photo — ask for a photo of the current moment\n\
/help — this message";
/// Taking up the latest dialog with a persona again.
pub fn resumed(name: &str, messages: i64, last: Option<&str>) -> String {
    let mut text = format!(
        "💬 Your chat with {name} continues ({messages} messages; /new starts a fresh one)."
    );
    if let Some(last) = last {
        text += &format!("\n\nHer last message:\n{}", shorten(last, 1000));
    }
    text
}

/// At most `max` characters of `text`, cut at a word boundary with "…" when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    let cut = head.rfind(char::is_whitespace).unwrap_or(head.len());
    format!("{}…", head[..cut].trim_end())
}
/// ◀ ▶ pressed under a message that is no longer the dialog's last.
pub const SWIPE_TOO_LATE: &str = "The story has moved on: only the latest message can be changed.";
/// A button from a keyboard that no longer applies.
pub const STALE_BUTTON: &str = "This button is out of date. Send /start to begin again.";
