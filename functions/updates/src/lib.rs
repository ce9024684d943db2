//! fn-updates: the conversation front. Each Telegram update is handled in one Postgres
//! transaction that serialises the chat's updates with an advisory lock, claims the
//! `update_id` (a redelivery, even a day later, has no second effect), applies the action and
//! commits the answers and jobs it implies with it; they are published after the commit (the
//! sweeper in fn-send repairs a crash in between). Updates of one chat are handled in the
//! order they arrived, across all copies: each chat has its own subject, and an update waits
//! (parked) while an older update of its chat is still in the stream, unhandled — so two quick
//! messages are stored and answered in the order sent even when two copies take them.
//! The hot path — a text from a confirmed user in an open dialog, within their rate — is the
//! same work in one autocommitted statement (`store::turn`). Every other update is routed to
//! its action's handler (`actions`), given the update's context (`ctx`); every statement is in
//! `store`.

pub mod actions;
pub mod commands;
pub mod ctx;
pub mod order;
pub mod route;
pub mod store;
pub mod voice;

use std::path::PathBuf;

use companion::jobs::sorry;
use companion::locale::Lang;
use companion::personas;
use runtime::HandlerError;
use runtime::app::{Deps, FromEnv};
use runtime::config::Env;
use runtime::effects::{Committed, Decision};
use runtime::envelope::update_order;
use runtime::nats::topology::{UPDATES_STAGE, UPDATES_STREAM};
use runtime::runner::Notice;
use runtime::runner::Stage;

use crate::ctx::Ctx;
use crate::route::{Action, TgUpdate, route};
use crate::store::budget::Rate;
use crate::store::turn::{self, TextTurn};
use crate::store::updates;

/// fn-updates settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Folder of persona cards, synced into the database at start.
    pub personas_dir: PathBuf,
    /// Longest accepted user message, in characters.
    pub max_message_chars: usize,
    /// Messages one user may send per minute.
    pub messages_per_minute: u32,
    /// Photo limits (`MAX_PHOTOS_PER_USER`, `MAX_PHOTOS_PER_DIALOG`, `PHOTOS_IN_FLIGHT`).
    pub photos: companion::photos::Limits,
    /// Who may open the admin panel (`ADMIN_USER_IDS`).
    pub admins: companion::ui::admin::AdminIds,
    /// How long a chat's oldest update may stay unhandled before it is given up and the
    /// chat's later updates go on (`ORDER_GIVE_UP_SECS`).
    pub order_give_up: std::time::Duration,
    /// Nudges (`NUDGE_SILENCE_SECS`, `NUDGES_PER_WEEK`).
    pub nudges: companion::nudges::NudgeSettings,
    /// Voice notes (`STT_*`, `TTS_*`, `VOICE_*`).
    pub voice: runtime::audio::VoiceSettings,
    /// The Bot API, to fetch voice notes (read only when speech to text is configured).
    pub telegram: Option<runtime::config::TelegramSettings>,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        Self {
            personas_dir: PathBuf::from(env.string("PERSONAS_DIR", "personas")),
            max_message_chars: env.parse("MAX_MESSAGE_CHARS", 4000),
            messages_per_minute: {
                let n = env.parse("MESSAGES_PER_MINUTE", 20u32);
                if n == 0 {
                    env.problem("MESSAGES_PER_MINUTE must be at least 1");
                }
                n
            },
            photos: companion::photos::Limits {
                per_user: env.parse("MAX_PHOTOS_PER_USER", 9999),
                per_dialog: env.parse("MAX_PHOTOS_PER_DIALOG", 9999),
                in_flight: env.parse("PHOTOS_IN_FLIGHT", 2),
            },
            admins: companion::ui::admin::AdminIds::read(env),
            order_give_up: env.seconds("ORDER_GIVE_UP_SECS", 180, 10),
            nudges: companion::nudges::NudgeSettings::read(env),
            voice: runtime::audio::VoiceSettings::read(env),
            telegram: None,
        }
        .with_telegram(env)
    }
}

impl Settings {
    /// Reads the Bot API settings when voice notes are fetched.
    fn with_telegram(mut self, env: &mut Env) -> Self {
        if self.voice.stt.is_some() {
            self.telegram = Some(runtime::config::TelegramSettings::read(env));
        }
        self
    }
}

/// The updates stage.
pub struct Updates {
    deps: Deps,
    stream: async_nats::jetstream::stream::Stream,
    max_message_chars: usize,
    photos: companion::photos::Limits,
    admins: companion::ui::admin::AdminIds,
    rate: Rate,
    order_give_up: std::time::Duration,
    heads: order::Heads,
    nudges: companion::nudges::NudgeSettings,
    ears: voice::Ears,
    speak: bool,
}

impl Updates {
    /// Loads and syncs the personas, then builds the stage.
    pub async fn new(settings: Settings, deps: Deps) -> Result<Self, String> {
        // Independent of each other: at once, so the copy is ready sooner (the requests go
        // out first; the cards are read while they are answered).
        let (stream, _, _) = tokio::try_join!(
            async {
                let stream = deps.js.get_stream(UPDATES_STREAM).await;
                stream.map_err(|e| e.to_string())
            },
            async {
                commands::set_commands(&deps)
                    .await
                    .map_err(|e| e.to_string())
            },
            load_personas(&settings.personas_dir, &deps.pool),
        )?;
        Ok(Self {
            stream,
            deps,
            max_message_chars: settings.max_message_chars,
            photos: settings.photos,
            admins: settings.admins,
            rate: Rate::per_minute(settings.messages_per_minute),
            order_give_up: settings.order_give_up,
            heads: order::Heads::default(),
            nudges: settings.nudges,
            ears: voice::Ears::new(
                &settings.voice,
                settings.telegram.as_ref(),
                // A note waits for the speech service well within the chat's order give-up.
                settings.order_give_up * 2 / 3,
            )?,
            speak: settings.voice.tts.is_some(),
        })
    }
}

/// Loads the persona cards of `dir` and syncs them: a bad card is refused alone (logged with
/// its file and field, and kept for the admin panel), but a folder that gives no persona at
/// all is a start-up error.
async fn load_personas(dir: &std::path::Path, pool: &sqlx::PgPool) -> Result<(), String> {
    let shown = dir.display();
    let loaded = personas::load_dir(dir).map_err(|e| format!("persona cards in {shown}: {e}"))?;
    for p in &loaded.problems {
        tracing::warn!(dir = %shown, file = %p.file, field = %p.field, reason = %p.reason, "persona card refused");
    }
    if loaded.personas.is_empty() {
        let problems: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
        return Err(format!(
            "no persona could be loaded from {shown}{}{}",
            if problems.is_empty() { "" } else { ": " },
            problems.join("; ")
        ));
    }
    personas::sync(pool, &loaded.personas, &loaded.problems)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(personas = loaded.personas.len(), refused = loaded.problems.len(), dir = %shown, "personas loaded");
    Ok(())
}

impl Stage for Updates {
    type Input = TgUpdate;
    const SPEC: runtime::nats::topology::StageSpec = UPDATES_STAGE;
    const CONCURRENCY: usize = 32;

    fn failure_notice(update: Option<&TgUpdate>) -> Option<Notice> {
        sorry(update.map_or(Lang::En, TgUpdate::lang), Vec::new())
    }

    fn decode(payload: &[u8]) -> serde_json::Result<TgUpdate> {
        TgUpdate::decode(payload)
    }

    fn order_key(payload: &[u8]) -> Option<runtime::runner::Order> {
        // Within a copy, a chat's updates one at a time, oldest first; across copies,
        // `order::before`.
        let (key, rank) = update_order(payload)?;
        Some(runtime::runner::Order { key, rank })
    }

    async fn handle(&self, input: TgUpdate) -> Result<(), HandlerError> {
        let update_id = i64::from(input.0.id.0);
        let Some((sender, action)) = route(&input.0) else {
            tracing::debug!(update_id, "update ignored");
            return Ok(());
        };
        let ctx = (&self.stream, &self.heads, &self.deps);
        if let order::Before::Older(wait) =
            order::before(ctx, sender.chat_id, update_id, self.order_give_up).await?
        {
            return Err(HandlerError::defer(
                "an older update of the chat goes first",
                wait,
            ));
        }
        // A voice note is heard now, before any transaction, in its place in the chat's order.
        let action = match action {
            Action::Voice(route::voice::Voice::Note(note)) => {
                let (pool, rate) = (&self.deps.pool, self.rate);
                Action::Voice(self.ears.hear(pool, &sender, update_id, note, rate).await?)
            }
            action => action,
        };
        let source = format!("upd-{update_id}");
        // The common case in one statement; anything the minor-safety scan flags takes the
        // full path, where it may be refused.
        if let Action::Text(text) = &action
            && text.chars().count() <= self.max_message_chars
            && companion::content::safety::check(text).is_none()
        {
            let job = uuid::Uuid::new_v4();
            let pool = &self.deps.pool;
            let turn = (job, self.rate, self.nudges.silence);
            match turn::text_turn(pool, update_id, &sender, text, turn, &source).await? {
                TextTurn::Stored(jobs) => {
                    let committed = Committed::written(source, jobs);
                    return self.deps.outbox.publish(committed).await;
                }
                TextTurn::Seen => return self.deps.outbox.republish(&source).await,
                TextTurn::Other => {}
            }
        }
        let mut tx = self.deps.pool.begin().await?;
        // The chat first, then the claim: a chat's updates are decided one at a time.
        let begun = updates::begin_update(&mut tx, update_id, &sender).await?;
        if !begun.claimed {
            tracing::info!(
                update_id,
                "update seen before; only its unpublished jobs are sent"
            );
            drop(tx);
            return self.deps.outbox.republish(&source).await;
        }
        let ctx = Ctx {
            update_id,
            sender: &sender,
            confirmed: begun.confirmed,
            max_chars: self.max_message_chars,
            rate: self.rate,
            lang: begun.lang(),
            renaming: begun.renaming_dialog_id,
            photos: self.photos,
            admins: &self.admins,
            nudges: self.nudges,
            nudges_on: begun.nudges,
            speak: self.speak,
        };
        let mut decision = Decision::new(source.clone(), source);
        actions::apply(&mut tx, &ctx, &mut decision, action).await?;
        let committed = decision.commit(tx).await?;
        self.deps.outbox.publish(committed).await
    }
}
