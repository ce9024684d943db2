//! Nudges — a persona writes first after the user has been silent a while — as far as they are
//! rules rather than plumbing: the user's clock (a fixed UTC offset, inferred from their
//! language until they set it) and quiet hours, when a nudge may go out, and the ids that make
//! one nudge per (user, last message).

use chrono::{DateTime, Duration, Timelike, Utc};
use uuid::Uuid;

/// Answers in a dialog after which the persona asks whether she may write first.
pub const OFFER_AFTER: i32 = 5;

/// The UTC offsets `/settings` steps through, in minutes (whole hours, UTC−12 to UTC+14).
pub const OFFSETS: std::ops::RangeInclusive<i32> = -720..=840;

/// Quiet-hour choices offered by `/settings` (local hours, from–to; equal: none).
pub const QUIET_CHOICES: [(u8, u8); 4] = [(23, 9), (22, 8), (0, 10), (0, 0)];

/// The nudge settings every stage that deals with nudges reads.
#[derive(Debug, Clone, Copy)]
pub struct NudgeSettings {
    /// How long a user is silent before a persona they allowed writes first
    /// (`NUDGE_SILENCE_SECS`, default a day; under the jobs stream's 7-day age limit).
    pub silence: std::time::Duration,
    /// Nudges a user gets at most in 7 days (`NUDGES_PER_WEEK`, default 3; 0: none).
    pub per_week: i64,
}

impl NudgeSettings {
    /// Reads and checks the settings; a bad value is a start-up problem.
    pub fn read(env: &mut runtime::config::Env) -> Self {
        let silence = env.seconds("NUDGE_SILENCE_SECS", 24 * 3600, 1);
        if silence > std::time::Duration::from_secs(6 * 24 * 3600) {
            env.problem("NUDGE_SILENCE_SECS must be at most 6 days (518400)");
        }
        let per_week: i64 = env.parse("NUDGES_PER_WEEK", 3);
        if !(0..=100).contains(&per_week) {
            env.problem("NUDGES_PER_WEEK must be between 0 and 100");
        }
        Self { silence, per_week }
    }
}

/// A user's clock: UTC offset and quiet hours `[from, to)` in local hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Minutes east of UTC.
    pub offset_min: i32,
    /// Quiet hours start (local hour, 0–23).
    pub quiet_from: u8,
    /// Quiet hours end (local hour, 0–23); equal to `quiet_from`: no quiet hours.
    pub quiet_to: u8,
}

impl Clock {
    /// The offset a user who never set one gets, from Telegram's `language_code`: Moscow time
    /// for Russian, UTC otherwise (`/settings` says it is a guess).
    pub fn inferred_offset(language_code: Option<&str>) -> i32 {
        let code = language_code.unwrap_or_default().to_ascii_lowercase();
        match code.get(..2).unwrap_or_default() {
            "ru" => 180,
            "uk" => 120,
            _ => 0,
        }
    }

    /// The user's local minute of the day at `at`.
    fn local_minute(&self, at: DateTime<Utc>) -> i64 {
        let local = at + Duration::minutes(i64::from(self.offset_min));
        i64::from(local.hour() * 60 + local.minute())
    }

    /// Whether `at` falls in the quiet hours.
    pub fn is_quiet(&self, at: DateTime<Utc>) -> bool {
        let (from, to) = (i64::from(self.quiet_from), i64::from(self.quiet_to));
        let hour = self.local_minute(at) / 60;
        match from.cmp(&to) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => from <= hour && hour < to,
            std::cmp::Ordering::Greater => hour >= from || hour < to,
        }
    }

    /// When a nudge due at `at` may go out: `at` itself, or the end of the quiet hours it falls in.
    pub fn next_allowed(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        if !self.is_quiet(at) {
            return at;
        }
        let now = self.local_minute(at);
        let end = i64::from(self.quiet_to) * 60;
        let ahead = (end - now).rem_euclid(24 * 60);
        let minute_start = at
            - Duration::seconds(i64::from(at.second()))
            - Duration::nanoseconds(i64::from(at.nanosecond()));
        minute_start + Duration::minutes(ahead)
    }

    /// The offset as people write it: `UTC+3`, `UTC−5:30`, `UTC`.
    pub fn zone_name(offset_min: i32) -> String {
        if offset_min == 0 {
            return "UTC".to_owned();
        }
        let sign = if offset_min > 0 { '+' } else { '−' };
        let (h, m) = (offset_min.abs() / 60, offset_min.abs() % 60);
        match m {
            0 => format!("UTC{sign}{h}"),
            _ => format!("UTC{sign}{h}:{m:02}"),
        }
    }

    /// The quiet hours as people write them (`23:00–09:00`), `None` when there are none.
    pub fn quiet_name(&self) -> Option<String> {
        (self.quiet_from != self.quiet_to)
            .then(|| format!("{:02}:00–{:02}:00", self.quiet_from, self.quiet_to))
    }
}

/// The schedule key of user `user`'s nudge: one pending nudge per user, whichever persona.
pub fn schedule_key(user: i64) -> String {
    format!("nudge.{user}")
}

/// The id of the nudge that follows user `user`'s message `last_message` (`chat_messages.id`):
/// whatever published its schedule, and however often it fired, one nudge per silence.
pub fn nudge_id(user: i64, last_message: i64) -> Uuid {
    Uuid::from_u64_pair(user as u64 ^ 0x4e55_4447_4500_0000, last_message as u64)
}

/// The outbox row (and envelope) id of a schedule published while handling job or update `of`.
pub fn schedule_id(of: Uuid) -> Uuid {
    Uuid::from_u128(of.as_u128() ^ 0x4e55_4447_4553_4348_4544_0000_0000_0001)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const MOSCOW: Clock = Clock {
        offset_min: 180,
        quiet_from: 23,
        quiet_to: 9,
    };

    #[test]
    fn quiet_hours_across_midnight_in_local_time() {
        // 20:30 UTC is 23:30 in Moscow: quiet until 09:00 local, 06:00 UTC.
        let t = at("2030-03-01T20:30:15Z");
        assert!(MOSCOW.is_quiet(t));
        assert_eq!(MOSCOW.next_allowed(t), at("2030-03-02T06:00:00Z"));
        // 05:59 UTC is 08:59 local: still quiet, a minute left.
        assert_eq!(
            MOSCOW.next_allowed(at("2030-03-02T05:59:00Z")),
            at("2030-03-02T06:00:00Z")
        );
        // 06:00 UTC is 09:00 local: the end is not quiet.
        let t = at("2030-03-02T06:00:00Z");
        assert!(!MOSCOW.is_quiet(t));
        assert_eq!(MOSCOW.next_allowed(t), t);
        assert!(!MOSCOW.is_quiet(at("2030-03-02T19:59:00Z")), "22:59 local");
        assert!(MOSCOW.is_quiet(at("2030-03-02T20:00:00Z")), "23:00 local");
    }

    #[test]
    fn quiet_hours_within_a_day_and_none() {
        let day = Clock {
            offset_min: -300,
            quiet_from: 1,
            quiet_to: 7,
        };
        // 08:00 UTC is 03:00 in UTC−5.
        let t = at("2030-03-01T08:00:00Z");
        assert!(day.is_quiet(t));
        assert_eq!(day.next_allowed(t), at("2030-03-01T12:00:00Z"));
        assert!(!day.is_quiet(at("2030-03-01T12:00:00Z")));
        assert!(!day.is_quiet(at("2030-03-01T05:59:00Z")), "00:59 local");
        let none = Clock {
            quiet_from: 4,
            quiet_to: 4,
            ..day
        };
        assert!(!none.is_quiet(t));
        assert_eq!(none.quiet_name(), None);
    }

    #[test]
    fn the_inferred_zone_and_names() {
        assert_eq!(Clock::inferred_offset(Some("ru-RU")), 180);
        assert_eq!(Clock::inferred_offset(Some("en")), 0);
        assert_eq!(Clock::inferred_offset(None), 0);
        assert_eq!(Clock::zone_name(180), "UTC+3");
        assert_eq!(Clock::zone_name(-330), "UTC−5:30");
        assert_eq!(Clock::zone_name(0), "UTC");
        assert_eq!(MOSCOW.quiet_name().unwrap(), "23:00–09:00");
    }

    #[test]
    fn one_nudge_per_user_and_last_message() {
        assert_eq!(nudge_id(7, 100), nudge_id(7, 100));
        assert_ne!(nudge_id(7, 100), nudge_id(7, 101));
        assert_ne!(nudge_id(7, 100), nudge_id(8, 100));
        let u = Uuid::new_v4();
        assert_ne!(schedule_id(u), u);
        assert_eq!(schedule_id(schedule_id(u)), u);
    }
}
