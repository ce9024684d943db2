//! The interface languages and their texts. Every sentence the bot says lives in one JSON file
//! per language under `shared/companion/locales/` (compiled in, parsed once); code names a
//! text by its typed key [`T`], so a missing or misspelt text is a unit-test failure, not a
//! blank message.
//! `{name}` placeholders are filled by [`tf`].

pub mod texts;

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English: for everyone whose Telegram language is not Russian.
    #[default]
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Every language, in the order offered by `/lang`.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The code stored and put in buttons.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language of a stored code, exactly as [`Lang::code`] writes it.
    pub fn from_code(code: &str) -> Option<Self> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language for a Telegram `language_code`: Russian for `ru…`, English otherwise.
    pub fn for_telegram(language_code: Option<&str>) -> Self {
        match language_code {
            Some(l) if l.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("ru")) => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// The language the bot speaks to a user: the one they chose with `/lang` (a stored
    /// [`Lang::code`]; a code this build does not know is no choice), else the one their
    /// Telegram app's `language_code` gives ([`Lang::for_telegram`]). The one place the user's
    /// language is decided: the database keeps only the choice and Telegram's code.
    pub fn for_user(chosen: Option<&str>, language_code: Option<&str>) -> Self {
        chosen
            .and_then(Lang::from_code)
            .unwrap_or_else(|| Lang::for_telegram(language_code))
    }

    /// The language's own name, for the `/lang` buttons.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "🇬🇧 English",
            Lang::Ru => "🇷🇺 Русский",
        }
    }
}

macro_rules! keys {
    ($($key:ident = $name:literal),* $(,)?) => {
        /// A text's key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum T { $($key),* }

        impl T {
            /// Every key.
            pub const ALL: &'static [T] = &[$(T::$key),*];

            /// The key's name in the locale files.
            pub fn name(self) -> &'static str {
                match self { $(T::$key => $name),* }
            }
        }
    };
}

keys! {
    Welcome = "welcome", AgeGate = "age_gate", AgeConfirmButton = "age_confirm_button",
    AgeDeclineButton = "age_decline_button", AgeDeclined = "age_declined",
    AgeConfirmed = "age_confirmed", ChoosePersona = "choose_persona",
    NoPersonas = "no_personas", PhotoButton = "photo_button",
    RegenerateButton = "regenerate_button", StopButton = "stop_button",
    PickFirst = "pick_first",
    Unsupported = "unsupported", TooLong = "too_long", SlowDown = "slow_down",
    UnknownCommand = "unknown_command", Sorry = "sorry", TryAgainButton = "try_again_button",
    NothingToRetry = "nothing_to_retry", NothingToRegenerate = "nothing_to_regenerate",
    RegenerateOnlyLatest = "regenerate_only_latest", Stopped = "stopped",
    AlreadyFinished = "already_finished", PersonaGone = "persona_gone",
    PhotoBlocked = "photo_blocked", Help = "help", Resumed = "resumed",
    HerLastMessage = "her_last_message", SwipeTooLate = "swipe_too_late",
    StaleButton = "stale_button", ChatsButton = "chats_button", ChatsTitle = "chats_title",
    ChatsEmpty = "chats_empty", ChatLine = "chat_line", ChatOpenButton = "chat_open_button",
    ChatRenameButton = "chat_rename_button", ChatDeleteButton = "chat_delete_button",
    PreviousPage = "previous_page", NextPage = "next_page", DeleteConfirm = "delete_confirm",
    DeleteYes = "delete_yes", Deleted = "deleted", ChatGone = "chat_gone",
    RenamePrompt = "rename_prompt", Renamed = "renamed", RenameTooLong = "rename_too_long",
    LangChoose = "lang_choose", LangSet = "lang_set", AnswerLanguage = "answer_language",
    CmdStart = "cmd_start", CmdPersona = "cmd_persona", CmdNew = "cmd_new",
    CmdChats = "cmd_chats", CmdRetry = "cmd_retry", CmdPhoto = "cmd_photo",
    CmdLang = "cmd_lang", CmdHelp = "cmd_help", PhotoTaking = "photo_taking",
    PhotoLeft = "photo_left", PhotoBusy = "photo_busy", PhotoLimitUser = "photo_limit_user",
    PhotoLimitDialog = "photo_limit_dialog", PhotoAgainButton = "photo_again_button",
    PhotoCaption = "photo_caption", ChatRefused = "chat_refused",
    ExportCaption = "export_caption", ExportTooSoon = "export_too_soon",
    ExportTruncated = "export_truncated", CmdDeleteMyData = "cmd_delete_my_data",
    EraseAsk = "erase_ask", EraseYes = "erase_yes", EraseNo = "erase_no",
    EraseKept = "erase_kept", Erased = "erased",
    CmdMemory = "cmd_memory", MemoryTitle = "memory_title", MemoryEmpty = "memory_empty",
    MemorySharedNote = "memory_shared_note", MemoryOwnNote = "memory_own_note",
    MemoryShareButton = "memory_share_button", MemoryUnshareButton = "memory_unshare_button",
    MemoryForgetButton = "memory_forget_button",
    MemoryForgetAllButton = "memory_forget_all_button",
    MemoryForgetAllAsk = "memory_forget_all_ask", MemoryForgetAllYes = "memory_forget_all_yes",
    MemoryForgotAll = "memory_forgot_all", MemoryForgot = "memory_forgot",
    MemoryGone = "memory_gone", DeleteConfirmMemory = "delete_confirm_memory",
    ExportMemory = "export_memory",
    // Nudges and /settings.
    NudgeOffer = "nudge_offer", NudgeYes = "nudge_yes", NudgeNo = "nudge_no",
    NudgesOnNow = "nudges_on_now", NudgesOffNow = "nudges_off_now",
    CmdSettings = "cmd_settings", SettingsTitle = "settings_title",
    SettingsZone = "settings_zone", SettingsZoneGuessed = "settings_zone_guessed",
    SettingsQuiet = "settings_quiet", SettingsQuietNone = "settings_quiet_none",
    SettingsNudges = "settings_nudges", SettingsNoPersonas = "settings_no_personas",
    SettingOn = "setting_on", SettingOff = "setting_off", ZoneEarlier = "zone_earlier",
    ZoneLater = "zone_later", QuietNoneButton = "quiet_none_button",
    NudgeToggle = "nudge_toggle",
    SpeakButton = "speak_button", VoiceHeard = "voice_heard",
    VoiceNotConfigured = "voice_not_configured", VoiceTooBig = "voice_too_big",
    VoiceDailyLimit = "voice_daily_limit", VoiceUnheard = "voice_unheard",
    SpeakNotConfigured = "speak_not_configured", VoiceAnswersOn = "voice_answers_on",
    VoiceAnswersOff = "voice_answers_off", VoiceAnswersTurnOn = "voice_answers_turn_on",
    VoiceAnswersTurnOff = "voice_answers_turn_off",
    VoiceAnswersUnavailable = "voice_answers_unavailable",
    VoiceTryAgain = "voice_try_again",
}

/// The bot's commands for Telegram's menu (`setMyCommands`), with their descriptions' keys.
pub const COMMANDS: &[(&str, T)] = &[
    ("start", T::CmdStart),
    ("persona", T::CmdPersona),
    ("new", T::CmdNew),
    ("chats", T::CmdChats),
    ("retry", T::CmdRetry),
    ("photo", T::CmdPhoto),
    ("lang", T::CmdLang),
    ("memory", T::CmdMemory),
    ("settings", T::CmdSettings),
    ("delete_my_data", T::CmdDeleteMyData),
    ("help", T::CmdHelp),
];

type Table = HashMap<String, String>;

fn parse(file: &str, json: &str) -> Table {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("locales/{file} is not valid: {e}"))
}

static EN: LazyLock<Table> =
    LazyLock::new(|| parse("en.json", include_str!("../../locales/en.json")));
static RU: LazyLock<Table> =
    LazyLock::new(|| parse("ru.json", include_str!("../../locales/ru.json")));

fn table(lang: Lang) -> &'static Table {
    match lang {
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

/// The text `key` in `lang` (English when the language lacks it, which the tests forbid).
pub fn t(lang: Lang, key: T) -> &'static str {
    table(lang)
        .get(key.name())
        .or_else(|| EN.get(key.name()))
        .map(String::as_str)
        .unwrap_or(key.name())
}

/// The text `key` in `lang` with each `{name}` replaced by its value.
pub fn tf(lang: Lang, key: T, args: &[(&str, &dyn Display)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{name}` placeholders of a text (`{{user}}` macros are not placeholders).
    fn placeholders(text: &str) -> Vec<String> {
        let text = text.replace("{{", "").replace("}}", "");
        let mut out: Vec<String> = text
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_key_is_in_every_language_with_the_same_placeholders() {
        for key in T::ALL {
            let en = EN
                .get(key.name())
                .unwrap_or_else(|| panic!("en lacks {key:?}"));
            for lang in Lang::ALL {
                let text = table(lang)
                    .get(key.name())
                    .unwrap_or_else(|| panic!("{lang:?} lacks {key:?}"));
                assert!(!text.trim().is_empty(), "{lang:?} {key:?} is empty");
                assert_eq!(placeholders(text), placeholders(en), "{lang:?} {key:?}");
            }
        }
        for lang in Lang::ALL {
            for name in table(lang).keys() {
                assert!(
                    T::ALL.iter().any(|k| k.name() == name),
                    "{lang:?} has {name}, which no code uses"
                );
            }
        }
    }

    #[test]
    fn russian_speakers_get_russian_and_everyone_else_english() {
        assert_eq!(Lang::for_telegram(Some("ru")), Lang::Ru);
        assert_eq!(Lang::for_telegram(Some("ru-RU")), Lang::Ru);
        assert_eq!(Lang::for_telegram(Some("RU")), Lang::Ru);
        assert_eq!(Lang::for_telegram(Some("en-GB")), Lang::En);
        assert_eq!(Lang::for_telegram(Some("uk")), Lang::En);
        assert_eq!(Lang::for_telegram(Some("r")), Lang::En);
        assert_eq!(Lang::for_telegram(None), Lang::En);
        for l in Lang::ALL {
            assert_eq!(Lang::from_code(l.code()), Some(l));
        }
        assert_eq!(Lang::from_code("de"), None);
    }

    #[test]
    fn a_chosen_language_beats_telegrams_and_an_unknown_choice_is_none() {
        assert_eq!(Lang::for_user(Some("en"), Some("ru-RU")), Lang::En);
        assert_eq!(Lang::for_user(Some("ru"), None), Lang::Ru);
        assert_eq!(Lang::for_user(None, Some("ru")), Lang::Ru);
        assert_eq!(Lang::for_user(None, None), Lang::En);
        assert_eq!(Lang::for_user(Some("xx"), Some("ru")), Lang::Ru);
    }

    #[test]
    fn placeholders_are_filled_and_texts_differ_by_language() {
        let en = tf(Lang::En, T::TooLong, &[("limit", &4000)]);
        let ru = tf(Lang::Ru, T::TooLong, &[("limit", &4000)]);
        assert!(en.contains("4000") && ru.contains("4000"));
        assert!(!en.contains('{') && !ru.contains('{'));
        assert_ne!(en, ru);
        assert!(t(Lang::Ru, T::Help).contains("/chats"));
        for (command, _) in COMMANDS {
            assert!(
                t(Lang::En, T::Help).contains(&format!("/{command}")),
                "{command}"
            );
        }
    }
}
