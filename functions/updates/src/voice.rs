//! Hearing a voice note (the actions themselves: `route::voice`), done before the update's
//! transaction opens (the Telegram download and the speech-to-text call are network calls; no
//! transaction or lock is held meanwhile). The update keeps its place in the chat's order while
//! it is heard — later updates of the chat wait — so a voice note's words are stored and
//! answered exactly where a text would have been; once heard, the words take the text's path
//! (`actions::voice`): 18+ gate, the safety screen, the split-request guard at the model.
//! Before anything is fetched the note is reserved (`store::voice::reserve`): the user's rate
//! taken and the day's seconds charged, so a flood over either costs no transcription. The
//! length is measured in the downloaded Ogg and charged when longer than claimed. At most
//! `VOICE_HEARING` notes are heard at once; more wait (deferred) without holding a slot of the
//! stage. A speech service that refuses the audio gets a "couldn't hear"; one that is down is
//! waited for (deferred) up to a horizon, then the user is asked to send the note again.

use std::sync::Arc;
use std::time::Duration;

use companion::content::{nsfw, safety};
use runtime::HandlerError;
use runtime::audio::{Speech, VoiceSettings, ogg};
use runtime::config::TelegramSettings;
use runtime::telegram::{BotApi, TgError};
use sqlx::PgPool;
use tokio::sync::Semaphore;

use crate::route::Sender;
use crate::route::voice::{Note, Unheard, Voice};
use crate::store::budget::Rate;
use crate::store::voice as store;

/// Bytes per second no voice note exceeds (Opus tops out at 510 kbit/s), plus headers: a note
/// larger than that for its claimed length lies about it.
const MAX_BYTES_PER_SECOND: usize = 64 << 10;
const SLACK_BYTES: usize = 64 << 10;
/// How long a note waits for a free hearing slot before it is tried again.
const BUSY_WAIT: Duration = Duration::from_secs(2);
/// How long a note waits for the speech service to come back before it is tried again.
const OUTAGE_WAIT: Duration = Duration::from_secs(10);

/// What fn-updates hears with: the Bot API (to fetch notes) and speech to text, when
/// configured.
pub struct Ears {
    hearing: Option<(BotApi, Speech)>,
    slots: Arc<Semaphore>,
    max_bytes: usize,
    seconds_per_day: u32,
    /// How long a note waits for the speech service before the user is asked to resend it.
    horizon: Duration,
}

impl Ears {
    /// Ears for `voice`; `telegram` is read only when speech to text is configured. A note
    /// the speech service cannot take is given up after `horizon`.
    pub fn new(
        voice: &VoiceSettings,
        telegram: Option<&TelegramSettings>,
        horizon: Duration,
    ) -> Result<Self, String> {
        let hearing = match (&voice.stt, telegram) {
            (Some(api), Some(tg)) => {
                let speech = Speech::new(api.clone(), voice.timeout, 64 << 10)?;
                Some((BotApi::new(tg, voice.timeout)?, speech))
            }
            _ => None,
        };
        Ok(Self {
            hearing,
            slots: Arc::new(Semaphore::new(voice.hearing.max(1))),
            max_bytes: voice.max_bytes,
            seconds_per_day: voice.seconds_per_day,
            horizon,
        })
    }

    /// Hears voice note `note` (update `update_id`) of `sender`: its words, or why not. A user
    /// who has not confirmed 18+ is not heard (the note goes on as it is, to the age gate), nor
    /// is an update handled before (it goes on to find its claim).
    pub async fn hear(
        &self,
        pool: &PgPool,
        sender: &Sender,
        update_id: i64,
        note: Note,
        rate: Rate,
    ) -> Result<Voice, HandlerError> {
        let Some((bot, stt)) = &self.hearing else {
            return Ok(Voice::Unheard(Unheard::NotConfigured));
        };
        let claimed = note.seconds.max(1);
        // A note larger than its claimed length allows is not fetched.
        let max_bytes = self
            .max_bytes
            .min(SLACK_BYTES + claimed as usize * MAX_BYTES_PER_SECOND);
        if note.bytes.is_some_and(|b| b as usize > max_bytes) {
            return Ok(Voice::Unheard(Unheard::TooBig));
        }
        let Ok(_slot) = self.slots.clone().try_acquire_owned() else {
            return Err(HandlerError::defer(
                "other voice notes are being heard",
                BUSY_WAIT,
            ));
        };
        let limit = self.seconds_per_day;
        let r = store::reserve(pool, sender.user_id, update_id, claimed, rate, limit).await?;
        if !r.confirmed || r.seen {
            return Ok(Voice::Note(note));
        }
        if r.wait_ms > 0.0 {
            let wait = Duration::from_millis(r.wait_ms as u64);
            return Ok(Voice::Unheard(Unheard::OverBudget(wait)));
        }
        if r.over_limit || !r.reserved {
            return Ok(Voice::Unheard(Unheard::DailyLimit(limit)));
        }
        if let Some(text) = r.text {
            return Ok(Voice::Heard { text });
        }
        let outage = |e: HandlerError| self.outage(pool, sender, update_id, r.age_secs, e);
        let ogg = match bot.download(&note.file_id, max_bytes).await {
            Ok(b) => b,
            Err(TgError::Permanent(why)) => {
                tracing::info!(%why, "voice note not fetched");
                let why = match why.starts_with("file larger") {
                    true => Unheard::TooBig,
                    false => Unheard::Unreadable,
                };
                return self.unheard(pool, sender, update_id, why).await;
            }
            Err(TgError::RetryAfter(wait)) => {
                return Err(HandlerError::retry_after("getFile rate limited", wait));
            }
            Err(e) => return outage(HandlerError::transient(e.to_string())).await,
        };
        let measured = match ogg::check_opus(&ogg) {
            Ok(info) => u32::try_from(info.duration_ms.div_ceil(1000)).unwrap_or(u32::MAX),
            Err(e) => {
                tracing::info!(error = %e, "voice note is not Ogg/Opus");
                return self
                    .unheard(pool, sender, update_id, Unheard::Unreadable)
                    .await;
            }
        };
        // A note longer than Telegram said is charged as long as it is (a second's rounding
        // aside), and over the day's limit it is not heard.
        if measured > claimed + 1 {
            let used = store::measured(pool, sender.user_id, update_id, measured).await?;
            if used > i64::from(limit) {
                return Ok(Voice::Unheard(Unheard::DailyLimit(limit)));
            }
        }
        let text = match stt.transcribe(ogg).await {
            Ok(text) => text,
            Err(HandlerError::Permanent { reason }) => {
                tracing::info!(%reason, "speech to text refused the voice note");
                return self
                    .unheard(pool, sender, update_id, Unheard::Unreadable)
                    .await;
            }
            Err(e @ HandlerError::Transient { .. }) => return outage(e).await,
            Err(e) => return Err(e),
        };
        // No NUL reaches the database (as for texts, `TgUpdate::decode`).
        let text = text.replace('\0', " ");
        if text.trim().is_empty() {
            return self.unheard(pool, sender, update_id, Unheard::Empty).await;
        }
        // Words the safety screen may refuse are never kept (a redelivery hears them again).
        if safety::check(&text).is_none() && !nsfw::is_adult(&text) {
            store::keep(pool, update_id, &text).await?;
        }
        Ok(Voice::Heard { text })
    }

    /// Not heard: the seconds given back, the reason for the user.
    async fn unheard(
        &self,
        pool: &PgPool,
        sender: &Sender,
        update_id: i64,
        why: Unheard,
    ) -> Result<Voice, HandlerError> {
        store::release(pool, sender.user_id, update_id).await?;
        Ok(Voice::Unheard(why))
    }

    /// The download or the speech service failed for now: tried again (deferred, using up no
    /// delivery, with the service's own wait when it gave one) until the note has waited
    /// `horizon`, then the user is asked to send it again.
    async fn outage(
        &self,
        pool: &PgPool,
        sender: &Sender,
        update_id: i64,
        age_secs: f64,
        e: HandlerError,
    ) -> Result<Voice, HandlerError> {
        if age_secs >= self.horizon.as_secs_f64() {
            tracing::warn!(error = %e, "voice note given up: the speech service stayed down");
            return self.unheard(pool, sender, update_id, Unheard::Outage).await;
        }
        let wait = match &e {
            HandlerError::Transient {
                retry_after: Some(w),
                ..
            } => *w,
            _ => OUTAGE_WAIT,
        };
        tracing::info!(error = %e, "voice note waits for the speech service");
        Err(HandlerError::defer(
            "the speech service is unavailable",
            wait,
        ))
    }
}
