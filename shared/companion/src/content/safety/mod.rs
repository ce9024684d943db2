//! Minor safety, for pictures and for chat. Every picture is of an adult: the scan below
//! blocks text that steers toward a minor — in English or Russian, in digits or number words,
//! by school grade or stage, transliterated, with look-alike letters, spaced or split by
//! symbols or zero-width characters, in leetspeak, plurals, diminutives and slang — while
//! harmless mentions pass ("my kids are asleep", "infantry", "5 years ago", "when I was
//! little", "the school reunion"). Term lists live per language in
//! `shared/companion/safety/*.json`.
//! Every negative prompt carries the minor-related terms.

mod ages;
mod context;
mod facts;
mod lexicon;
mod normal;
mod picture;
mod scan;
mod signal;
mod spelled;
#[cfg(test)]
mod tests;

pub use facts::fact_refusal;
use signal::Mode;
pub use signal::{Hit, Rule};

/// Builds the term lists on a thread of their own, so a function can do it while it connects
/// (fn-updates screens every persona card before it is ready; the first message a stage
/// screens would otherwise wait for it).
pub fn prepare() {
    std::thread::spawn(|| {
        std::sync::LazyLock::force(&lexicon::LEXICON);
    });
}

/// Appended to every negative prompt.
pub const NEGATIVE_TERMS: &str = "child, children, kid, minor, underage, teen, teenager, loli, childlike, young-looking, school uniform";

/// A signal that `text` — a user's request, dialog text that shapes a picture — steers toward
/// a minor. Mentions that are owned, denied or remembered pass.
pub fn check(text: &str) -> Option<Hit> {
    scan::scan(text, Mode::CHAT)
}

/// The same for text that describes a picture (a photo wish, the scene, the final prompt): any
/// child in it blocks, owned or remembered, and so do body and styling cues of a childlike
/// look ("flat-chested", "braces and pigtails").
pub fn check_picture(text: &str) -> Option<Hit> {
    scan::scan(text, Mode::PICTURE)
}

/// Whether a chat message must be refused rather than answered: any minor signal (a family
/// word taken as a role, "be my daughter", included) except a family word on its own ("the
/// kids next door"), which is refused only with sexual content, in the message itself or in a
/// dialog already adult. A refusal marks the dialog (see fn-updates), so sexual content later
/// in that dialog is refused too.
pub fn chat_refusal(text: &str, adult_dialog: bool) -> Option<Hit> {
    let hit = check(text)?;
    (hit.rule != Rule::Family || adult_dialog || crate::content::nsfw::is_adult(text))
        .then_some(hit)
}

/// Whether text the model wrote (an answer, a summary) must not be shown or stored: it turns the
/// persona, or anyone in the scene, into a minor, or places a minor in sexual content. The
/// persona's own memories pass, as they do for the user — unless the text itself is sexual:
/// there, "when I was 15" places a minor in it.
pub fn answer_refusal(text: &str, adult_dialog: bool) -> Option<Hit> {
    let sexual = crate::content::nsfw::is_adult(text);
    let hit = scan::scan(text, if sexual { Mode::SEXUAL } else { Mode::CHAT })?;
    (hit.rule != Rule::Family || adult_dialog || sexual).then_some(hit)
}

/// A negative prompt with the safety terms appended.
pub fn negative_prompt(extra: &str) -> String {
    let extra = extra.trim().trim_end_matches(',');
    if extra.is_empty() {
        NEGATIVE_TERMS.to_owned()
    } else {
        format!("{extra}, {NEGATIVE_TERMS}")
    }
}
