//! The inline keyboards under the persona's messages, in the user's language: ◀ n/N ▶ to
//! browse a message's versions, 🔄 to write an answer again, 📸 for a photo, 🔊 to hear it
//! (when speech is configured), ⏹ while an answer streams.

use crate::locale::{Lang, T, t};
use crate::ui::buttons::Button;
use runtime::telegram::ButtonRow;

/// What a persona's message offers.
#[derive(Debug, Clone, Copy)]
pub struct Under {
    /// The dialog it belongs to (for 📸).
    pub dialog_id: i64,
    /// The message (`chat_messages.id`) whose versions ◀ ▶ browse; `None` before it is stored.
    pub message_id: Option<i64>,
    /// The version shown (from 0).
    pub index: i16,
    /// How many versions there are.
    pub variants: i16,
    /// The user message it answers, for 🔄 (greetings have none).
    pub answers: Option<i64>,
    /// Offer 🔊 (speech is configured; answers only).
    pub speak: bool,
}

impl Under {
    /// A message with one version and nothing to browse.
    pub fn plain(dialog_id: i64, answers: Option<i64>) -> Self {
        Self {
            dialog_id,
            message_id: None,
            index: 0,
            variants: 1,
            answers,
            speak: false,
        }
    }

    /// The rows: ◀ n/N ▶ when there are versions to browse, then 🔄 (for answers) and 📸.
    pub fn rows(&self, lang: Lang) -> Vec<ButtonRow> {
        let mut rows = Vec::new();
        if let (Some(message), true) = (self.message_id, self.variants > 1) {
            let n = self.variants;
            let to = |i: i16| {
                Button::Swipe {
                    message,
                    index: i.rem_euclid(n),
                }
                .encode()
            };
            rows.push(vec![
                ("◀".to_owned(), to(self.index - 1)),
                (format!("{}/{n}", self.index + 1), to(self.index)),
                ("▶".to_owned(), to(self.index + 1)),
            ]);
        }
        let mut last = Vec::new();
        if let Some(u) = self.answers {
            let label = t(lang, T::RegenerateButton).to_owned();
            last.push((label, Button::Regenerate(u).encode()));
        }
        last.extend(photo_button(lang, self.dialog_id).into_iter().flatten());
        if let (Some(message), true) = (self.answers, self.speak) {
            let speak = Button::Speak {
                message,
                index: self.index,
            };
            last.push((t(lang, T::SpeakButton).to_owned(), speak.encode()));
        }
        rows.push(last);
        rows
    }
}

/// The photo button alone.
pub fn photo_button(lang: Lang, dialog_id: i64) -> Vec<ButtonRow> {
    vec![vec![(
        t(lang, T::PhotoButton).to_owned(),
        Button::Photo(dialog_id).encode(),
    )]]
}

/// 🔄 "another one" under a photo.
pub fn photo_again_button(lang: Lang, dialog_id: i64) -> Vec<ButtonRow> {
    vec![vec![(
        t(lang, T::PhotoAgainButton).to_owned(),
        Button::Photo(dialog_id).encode(),
    )]]
}

/// ⏹ under an answer that is still being written.
pub fn stop_button(lang: Lang, user_message_id: i64) -> Vec<ButtonRow> {
    vec![vec![(
        t(lang, T::StopButton).to_owned(),
        Button::Stop(user_message_id).encode(),
    )]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_photo_button_has_telegrams_shape() {
        let k = runtime::telegram::keyboard(&photo_button(Lang::En, 5));
        assert_eq!(k["inline_keyboard"][0][0]["callback_data"], "photo:5");
    }

    #[test]
    fn answers_offer_regenerate_and_browse_once_there_are_versions() {
        let mut u = Under::plain(9, Some(4));
        let rows = u.rows(Lang::En);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0].1, "re:4");
        assert_eq!(rows[0][1].1, "photo:9");
        u.message_id = Some(5);
        u.variants = 3;
        u.index = 0;
        let rows = u.rows(Lang::Ru);
        assert_eq!(rows[0][0], ("◀".to_owned(), "sw:5:2".to_owned()));
        assert_eq!(rows[0][1].0, "1/3");
        assert_eq!(rows[0][2].1, "sw:5:1");
        assert_eq!(rows[1][1].0, "📸 Фото");
        let greeting = Under { answers: None, ..u };
        assert_eq!(greeting.rows(Lang::En)[1].len(), 1);
        let spoken = Under { speak: true, ..u };
        assert_eq!(spoken.rows(Lang::En)[1][2].1, "vo:4:0");
        assert_eq!(
            Under {
                speak: true,
                ..greeting
            }
            .rows(Lang::En)[1]
                .len(),
            1
        );
    }
}
