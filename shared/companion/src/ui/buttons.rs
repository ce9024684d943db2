//! Inline-button data, typed: every button the bot shows is one [`Button`], encoded into
//! Telegram's `callback_data` (at most 64 bytes) and decoded strictly — anything that is not
//! exactly what [`Button::encode`] writes (old keyboards, forged or truncated data) decodes to
//! `None` and is answered as a stale button.

use std::fmt::Write;

/// Telegram's limit on `callback_data`, in bytes.
pub const CALLBACK_DATA_LIMIT: usize = 64;

/// A button's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// "I am 18 or older".
    ConfirmAge,
    /// "I am under 18".
    DeclineAge,
    /// Talk to persona `girl_id`.
    Persona(i32),
    /// A photo for dialog `dialog_id`.
    Photo(i64),
    /// Answer user message `message` again after its answer failed.
    Retry(i64),
    /// Show variant `index` of message `message` (`chat_messages.id`) in place.
    Swipe { message: i64, index: i16 },
    /// Write another answer to user message `message` (🔄).
    Regenerate(i64),
    /// Stop the answer to user message `message` that is streaming (⏹).
    Stop(i64),
    /// Page `page` (from 0) of the user's dialogs.
    Chats(i16),
    /// Continue dialog `dialog`.
    Open(i64),
    /// Rename dialog `dialog` (the next text is its title).
    Rename(i64),
    /// Ask whether to delete dialog `dialog`.
    Delete(i64),
    /// Delete dialog `dialog`, confirmed.
    DeleteConfirmed(i64),
    /// Speak this interface language.
    Lang(crate::locale::Lang),
    /// A section of the admin panel (acted on only for admins).
    Admin(crate::ui::admin::Section),
    /// Page `1` of a section's table (admins only).
    AdminPage(crate::ui::admin::Section, u16),
    /// Retry dead letter `id` (the panel's Health section; admins only).
    AdminRetry(i64),
    /// `/delete_my_data`: erase everything (`true`) or keep it (`false`).
    EraseMe(bool),
    /// A press on the `/memory` view.
    Memory(crate::ui::memory::MemoryPress),
    /// Nudges from persona `girl` on or off: the question after a few answers (`settings`
    /// false) or its row in `/settings` (true, shown again changed).
    Nudges { girl: i32, on: bool, settings: bool },
    /// `/settings`: the time zone, as minutes east of UTC.
    Zone(i16),
    /// `/settings`: quiet hours from–to (local hours; equal: none).
    Quiet(u8, u8),
    /// 🔊: say version `index` of the answer to user message `message` as a voice note.
    Speak { message: i64, index: i16 },
    /// Turn the "answer in voice" setting on (`true`) or off.
    VoiceAnswers(bool),
}

impl Button {
    /// The `callback_data` for this button.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = match self {
            Button::ConfirmAge => write!(s, "age:yes"),
            Button::DeclineAge => write!(s, "age:no"),
            Button::Persona(id) => write!(s, "persona:{id}"),
            Button::Photo(dialog) => write!(s, "photo:{dialog}"),
            Button::Retry(message) => write!(s, "retry:{message}"),
            Button::Swipe { message, index } => write!(s, "sw:{message}:{index}"),
            Button::Regenerate(message) => write!(s, "re:{message}"),
            Button::Stop(message) => write!(s, "stop:{message}"),
            Button::Chats(page) => write!(s, "chats:{page}"),
            Button::Open(dialog) => write!(s, "open:{dialog}"),
            Button::Rename(dialog) => write!(s, "ren:{dialog}"),
            Button::Delete(dialog) => write!(s, "del:{dialog}"),
            Button::DeleteConfirmed(dialog) => write!(s, "delok:{dialog}"),
            Button::Lang(lang) => write!(s, "lang:{}", lang.code()),
            Button::Admin(section) => write!(s, "adm:{}", section.as_str()),
            Button::AdminPage(section, page) => write!(s, "admp:{}:{page}", section.as_str()),
            Button::AdminRetry(id) => write!(s, "admr:{id}"),
            Button::EraseMe(true) => write!(s, "me:erase"),
            Button::EraseMe(false) => write!(s, "me:keep"),
            Button::Memory(press) => press.encode(&mut s),
            Button::Nudges { girl, on, settings } => {
                let kind = if *settings { "snudge" } else { "nudge" };
                write!(s, "{kind}:{girl}:{}", u8::from(*on))
            }
            Button::Zone(minutes) => write!(s, "tz:{minutes}"),
            Button::Quiet(from, to) => write!(s, "quiet:{from}:{to}"),
            Button::Speak { message, index } => write!(s, "vo:{message}:{index}"),
            Button::VoiceAnswers(true) => write!(s, "va:on"),
            Button::VoiceAnswers(false) => write!(s, "va:off"),
        };
        debug_assert!(s.len() <= CALLBACK_DATA_LIMIT);
        s
    }

    /// The button `data` encodes, or `None` when it is not one of ours as written today.
    pub fn decode(data: &str) -> Option<Self> {
        if data.len() > CALLBACK_DATA_LIMIT {
            return None;
        }
        let (kind, arg) = data.split_once(':')?;
        let button = match kind {
            "age" if arg == "yes" => Button::ConfirmAge,
            "age" if arg == "no" => Button::DeclineAge,
            "persona" => Button::Persona(id(arg)?),
            "photo" => Button::Photo(id(arg)?),
            "retry" => Button::Retry(id(arg)?),
            "sw" => {
                let (message, index) = arg.split_once(':')?;
                let index = index.parse::<i16>().ok().filter(|i| *i >= 0)?;
                Button::Swipe {
                    message: id(message)?,
                    index,
                }
            }
            "re" => Button::Regenerate(id(arg)?),
            "stop" => Button::Stop(id(arg)?),
            "chats" => Button::Chats(arg.parse::<i16>().ok().filter(|p| *p >= 0)?),
            "open" => Button::Open(id(arg)?),
            "ren" => Button::Rename(id(arg)?),
            "del" => Button::Delete(id(arg)?),
            "delok" => Button::DeleteConfirmed(id(arg)?),
            "lang" => Button::Lang(crate::locale::Lang::from_code(arg)?),
            "adm" => Button::Admin(crate::ui::admin::Section::parse(arg)?),
            "admp" => {
                let (section, page) = arg.split_once(':')?;
                let section = crate::ui::admin::Section::parse(section)?;
                Button::AdminPage(section, page.parse::<u16>().ok()?)
            }
            "admr" => Button::AdminRetry(id(arg)?),
            "me" if arg == "erase" => Button::EraseMe(true),
            "me" if arg == "keep" => Button::EraseMe(false),
            "mem" | "memdel" | "memall" | "memshare" => {
                Button::Memory(crate::ui::memory::MemoryPress::decode(kind, arg)?)
            }
            "nudge" | "snudge" => {
                let (girl, on) = arg.split_once(':')?;
                Button::Nudges {
                    girl: id(girl)?,
                    on: on == "1",
                    settings: kind == "snudge",
                }
            }
            "tz" => Button::Zone(
                arg.parse::<i16>()
                    .ok()
                    .filter(|m| crate::nudges::OFFSETS.contains(&i32::from(*m)))?,
            ),
            "quiet" => {
                let (from, to) = arg.split_once(':')?;
                let hour = |h: &str| h.parse::<u8>().ok().filter(|h| *h < 24);
                Button::Quiet(hour(from)?, hour(to)?)
            }
            "vo" => {
                let (message, index) = arg.split_once(':')?;
                let index = index.parse::<i16>().ok().filter(|i| *i >= 0)?;
                Button::Speak {
                    message: id(message)?,
                    index,
                }
            }
            "va" if arg == "on" => Button::VoiceAnswers(true),
            "va" if arg == "off" => Button::VoiceAnswers(false),
            _ => return None,
        };
        // Only the canonical spelling: "+7", "007" or trailing junk are not ours.
        (button.encode() == data).then_some(button)
    }
}

/// A positive database id.
fn id<T: std::str::FromStr + PartialOrd + Default>(s: &str) -> Option<T> {
    s.parse::<T>().ok().filter(|v| *v > T::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::memory::MemoryPress;

    #[test]
    fn every_button_round_trips_within_the_limit() {
        let all = [
            Button::ConfirmAge,
            Button::DeclineAge,
            Button::Persona(1),
            Button::Persona(i32::MAX),
            Button::Photo(1),
            Button::Photo(i64::MAX),
            Button::Retry(42),
            Button::Swipe {
                message: i64::MAX,
                index: 0,
            },
            Button::Swipe {
                message: 7,
                index: i16::MAX,
            },
            Button::Regenerate(i64::MAX),
            Button::Stop(3),
            Button::Chats(0),
            Button::Chats(i16::MAX),
            Button::Open(5),
            Button::Rename(5),
            Button::AdminRetry(i64::MAX),
            Button::AdminPage(crate::ui::admin::Section::Personas, u16::MAX),
            Button::EraseMe(true),
            Button::EraseMe(false),
            Button::Delete(5),
            Button::DeleteConfirmed(i64::MAX),
            Button::Lang(crate::locale::Lang::Ru),
            Button::Lang(crate::locale::Lang::En),
            Button::Memory(MemoryPress::Page(0)),
            Button::Memory(MemoryPress::Page(i16::MAX)),
            Button::Memory(MemoryPress::Forget {
                fact: i64::MAX,
                page: i16::MAX,
            }),
            Button::Memory(MemoryPress::ForgetAll(false)),
            Button::Memory(MemoryPress::ForgetAll(true)),
            Button::Memory(MemoryPress::Share(true)),
            Button::Memory(MemoryPress::Share(false)),
            Button::Nudges {
                girl: i32::MAX,
                on: true,
                settings: true,
            },
            Button::Nudges {
                girl: 3,
                on: false,
                settings: false,
            },
            Button::Zone(-720),
            Button::Zone(840),
            Button::Quiet(23, 9),
            Button::Quiet(0, 0),
            Button::Speak {
                message: i64::MAX,
                index: i16::MAX,
            },
            Button::VoiceAnswers(true),
            Button::VoiceAnswers(false),
        ];
        for b in all {
            let data = b.encode();
            assert!(data.len() <= CALLBACK_DATA_LIMIT, "{data}");
            assert_eq!(Button::decode(&data), Some(b), "{data}");
        }
    }

    #[test]
    fn tampered_or_foreign_data_is_refused() {
        let bad = [
            "",
            "age",
            "age:maybe",
            "age:yes:1",
            "persona:",
            "persona:x",
            "persona:-3",
            "persona:0",
            "persona:+3",
            "persona:03",
            "persona:3 ",
            "persona:2147483648",
            "photo:9223372036854775808",
            "photo:1:2",
            "PHOTO:1",
            "admin:1",
            "retry:",
            "retry:-1",
            "sw:1",
            "sw:1:-1",
            "sw:0:1",
            "sw:1:01",
            "sw:1:2:3",
            "sw:x:1",
            "sw:1:32768",
            "re:0",
            "stop:-2",
            "chats:-1",
            "chats:01",
            "open:",
            "delok:x",
            "lang:de",
            "lang:RU",
            "mem:-1",
            "mem:01",
            "memdel:0:0",
            "memdel:5",
            "memdel:5:x",
            "memall:no",
            "memshare:maybe",
            "nudge:3:2",
            "nudge:0:1",
            "tz:900",
            "tz:+60",
            "quiet:24:1",
            "quiet:9",
            "vo:1",
            "vo:0:0",
            "vo:1:-1",
            "va:yes",
        ];
        for data in bad {
            assert_eq!(Button::decode(data), None, "{data:?}");
        }
        let long = format!("photo:{}", "1".repeat(70));
        assert_eq!(Button::decode(&long), None);
    }
}
