//! What fn-updates and fn-admin share about the admin panel: its sections, the job that hands
//! an admin's command or button over, and the admins' numeric ids (`ADMIN_USER_IDS`; usernames
//! are never used for authorization).

use serde::{Deserialize, Serialize};

use crate::locale::Lang;
use runtime::config::Env;

/// A section of the panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    /// Users, DAU/WAU/MAU, messages, photos, dialogs, stickiness.
    #[default]
    Overview,
    /// D1/D4/D7/D30 by signup-day cohort.
    Retention,
    /// The last 30 days.
    Daily,
    /// Top users by messages, or one user's figures.
    Users,
    /// Dialogs, messages and photos per persona.
    Personas,
    /// Queues and dead letters.
    Health,
}

impl Section {
    /// Every section, in panel order.
    pub const ALL: [Section; 6] = [
        Section::Overview,
        Section::Retention,
        Section::Daily,
        Section::Users,
        Section::Personas,
        Section::Health,
    ];

    /// Short name, used in button data (`adm:<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Overview => "overview",
            Section::Retention => "retention",
            Section::Daily => "daily",
            Section::Users => "users",
            Section::Personas => "personas",
            Section::Health => "health",
        }
    }

    /// Parses [`Section::as_str`].
    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What an admin asked for: a section (at a page of its table), one user's figures, or a dead
/// letter sent back to its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Request {
    /// Which section.
    pub section: Section,
    /// `/admin user <id>`: that user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about_user: Option<i64>,
    /// The page of the section's table (from 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub page: u16,
    /// A dead letter to send back to its stage (the Health section's retry button).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<i64>,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

impl Request {
    /// A section's first page.
    pub fn section(section: Section) -> Self {
        Self {
            section,
            ..Self::default()
        }
    }
}

/// An admin's `/admin [user <id>]` or panel button, checked by fn-updates, for fn-admin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdminJob {
    /// The admin's chat.
    pub chat_id: i64,
    /// The admin's Telegram id (checked again by fn-admin).
    pub user_id: i64,
    /// Interface language.
    #[serde(default)]
    pub lang: Lang,
    /// What they asked for.
    #[serde(flatten)]
    pub request: Request,
    /// The panel message a button was pressed under (edited in place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<i64>,
    /// The pressed button's callback, answered by fn-admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

/// The admins' numeric Telegram ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminIds(Vec<i64>);

impl AdminIds {
    /// Reads `ADMIN_USER_IDS` (comma-separated numeric ids; empty: nobody).
    pub fn read(env: &mut Env) -> Self {
        let raw = env.string("ADMIN_USER_IDS", "");
        let mut ids = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.parse::<i64>() {
                Ok(id) if id > 0 => ids.push(id),
                _ => env.problem(format!(
                    "ADMIN_USER_IDS: {part:?} is not a numeric Telegram user id (usernames are not accepted)"
                )),
            }
        }
        AdminIds(ids)
    }

    /// Whether `user_id` is an admin.
    pub fn contains(&self, user_id: i64) -> bool {
        self.0.contains(&user_id)
    }
}
