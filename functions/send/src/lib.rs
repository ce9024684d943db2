//! fn-send: the one function that calls the Telegram Bot API. Every other stage commits its
//! effects (messages, photos, callback answers) as rows and publishes a send job naming them;
//! fn-send sends them in order, each once, paced to Telegram's flood rules across all copies:
//! about one message a second per private chat with short bursts, 20 a minute per group, bulk
//! sends at `TELEGRAM_BULK_PER_SEC` bot-wide, and an optional bot-wide cap on everything. A 429
//! pauses the chat (or everything, when the chat was within its limits) for exactly its
//! `retry_after`, and waiting never uses up a job's delivery budget; nor does a Telegram
//! outage: a send keeps being tried for `SEND_GIVE_UP_SECS`. A user who blocked the bot is
//! marked unreachable and nothing more is sent to them until they write again. Chat actions
//! go on a lane of their own.

mod actions;
mod call;
mod deliver;
mod erase;
pub mod lease;
pub mod plan;
pub mod store;
pub mod sweep;
mod waits;

use std::time::Duration;

use runtime::HandlerError;
use runtime::app::{Deps, FromEnv};
use runtime::config::{Env, TelegramSettings};
use runtime::envelope::{Envelope, SendJob};
use runtime::nats::jobs::JobState;
use runtime::nats::topology::SEND_STAGE;
use runtime::runner::Stage;
use runtime::telegram::BotApi;

use crate::actions::Actions;
use crate::sweep::SweepSettings;

/// fn-send settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Bot API access.
    pub telegram: TelegramSettings,
    /// Sends that answer nobody, per second bot-wide.
    pub bulk_per_sec: f64,
    /// Optional cap on every send, per second bot-wide (0 = none).
    pub global_per_sec: f64,
    /// Bot API call timeout.
    pub timeout: Duration,
    /// How long a send keeps being tried while Telegram fails (`SEND_GIVE_UP_SECS`).
    pub give_up_after: Duration,
    /// The sweeper's rhythm.
    pub sweep: SweepSettings,
}

impl FromEnv for Settings {
    fn read(env: &mut Env) -> Self {
        let bulk_per_sec = env.parse("TELEGRAM_BULK_PER_SEC", 30.0f64);
        let global_per_sec = env.parse("TELEGRAM_GLOBAL_PER_SEC", 0.0f64);
        let finite = bulk_per_sec.is_finite() && global_per_sec.is_finite();
        if !finite || bulk_per_sec <= 0.0 || global_per_sec < 0.0 {
            env.problem("TELEGRAM_BULK_PER_SEC must be > 0 and TELEGRAM_GLOBAL_PER_SEC >= 0");
        }
        Self {
            telegram: TelegramSettings::read(env),
            bulk_per_sec,
            global_per_sec,
            timeout: env.seconds("TELEGRAM_TIMEOUT_SECS", 10, 1),
            give_up_after: env.seconds("SEND_GIVE_UP_SECS", 3600, 1),
            sweep: SweepSettings {
                every: env.seconds("SWEEP_INTERVAL_SECS", 5, 1),
                grace: env.seconds("SWEEP_GRACE_SECS", 10, 1),
                dead_letter_days: env.parse("DEAD_LETTER_DAYS", 14u32).max(1),
            },
        }
    }
}

/// Flood rule of one key: an interval between sends and a burst tolerance (GCRA).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub(crate) interval_ms: f64,
    pub(crate) burst_ms: f64,
}

/// About one message a second per private chat, with a burst of a few.
pub(crate) const PRIVATE: Rule = Rule {
    interval_ms: 1000.0,
    burst_ms: 3000.0,
};
/// 20 messages a minute per group.
pub(crate) const GROUP: Rule = Rule {
    interval_ms: 3000.0,
    burst_ms: 3000.0,
};

/// The send stage.
pub struct Send {
    deps: Deps,
    api: BotApi,
    actions: Actions,
    waits: waits::Waits,
    lease: Duration,
    give_up_after: Duration,
    bulk: Rule,
    global: Option<Rule>,
}

impl Send {
    /// Builds the stage and starts its sweeper.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        let api = BotApi::new(&s.telegram, s.timeout)?;
        let actions = Actions::new(
            BotApi::new(&s.telegram, actions::TIMEOUT)?,
            deps.pool.clone(),
        );
        tokio::spawn(sweep::run(
            deps.pool.clone(),
            deps.outbox.clone(),
            deps.js.clone(),
            s.sweep,
        ));
        let per = |n: f64| Rule {
            interval_ms: 1000.0 / n,
            burst_ms: 0.0,
        };
        Ok(Self {
            api,
            actions,
            waits: waits::Waits::default(),
            // A claim may make two calls (an edit, then a send) and wait for connections
            // around them; an upload's allowance is added by its size when it is claimed.
            lease: s.timeout * 2 + Duration::from_secs(5),
            give_up_after: s.give_up_after,
            bulk: per(s.bulk_per_sec),
            global: (s.global_per_sec > 0.0).then(|| per(s.global_per_sec)),
            deps,
        })
    }
}

pub(crate) fn chat_rule(chat_id: i64) -> Rule {
    if chat_id < 0 { GROUP } else { PRIVATE }
}

impl Stage for Send {
    type Input = Envelope<SendJob>;
    const SPEC: runtime::nats::topology::StageSpec = SEND_STAGE;
    const CONCURRENCY: usize = 256;

    async fn handle(&self, env: Envelope<SendJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        for id in &job.effects {
            self.deliver(*id, env.id).await?;
        }
        if let Some(action) = &job.action {
            self.actions.show(job.chat_id, action, job.action_at_ms);
        }
        if let Some(done) = job.completes {
            self.deps
                .jobs
                .note(done, JobState::Completed, SEND_STAGE.name, None)
                .await;
        }
        Ok(())
    }

    async fn abandoned(&self, env: Envelope<SendJob>) {
        for id in env.payload.effects {
            if let Err(e) = store::failed(&self.deps.pool, id, "send job given up").await {
                tracing::warn!(error = %e, "could not mark an effect failed");
            }
        }
    }
}
