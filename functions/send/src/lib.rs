//! fn-send: the one function that calls the Telegram Bot API. Every other stage commits its
//! effects (messages, photos, callback answers) as rows and publishes a send job naming them;
//! fn-send sends them in order, each once, paced to Telegram's flood rules across all copies:
//! about one message a second per private chat with short bursts, 20 a minute per group, bulk
//! sends at `TELEGRAM_BULK_PER_SEC` bot-wide, and an optional bot-wide cap on everything. A 429
//! pauses the chat (or everything, when the chat was within its limits) for exactly its
//! `retry_after`, and waiting never uses up a job's delivery budget. A user who blocked the bot
//! is marked unreachable and nothing more is sent to them until they write again.

mod call;
mod erase;
pub mod store;
pub mod sweep;

use std::time::Duration;

use shared::HandlerError;
use shared::app::{Deps, FromEnv};
use shared::config::{Env, TelegramSettings};
use shared::effects::{Decision, EDIT_OF, OR_SEND};
use shared::envelope::{Envelope, SendJob};
use shared::error::backoff;
use shared::jobs::JobState;
use shared::locale::{T, t};
use shared::runner::Stage;
use shared::telegram::{BotApi, TgError};
use shared::topology::{MAX_DELIVER, SEND_STAGE};
use uuid::Uuid;

use crate::call::{as_new_message, resolve, upload_of};
use crate::store::{ChatRules, Claim};
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
            sweep: SweepSettings {
                every: env.seconds("SWEEP_INTERVAL_SECS", 5, 1),
                grace: env.seconds("SWEEP_GRACE_SECS", 10, 1),
            },
        }
    }
}

/// Flood rule of one key: an interval between sends and a burst tolerance (GCRA).
#[derive(Debug, Clone, Copy)]
struct Rule {
    interval_ms: f64,
    burst_ms: f64,
}

/// About one message a second per private chat, with a burst of a few.
const PRIVATE: Rule = Rule {
    interval_ms: 1000.0,
    burst_ms: 3000.0,
};
/// 20 messages a minute per group.
const GROUP: Rule = Rule {
    interval_ms: 3000.0,
    burst_ms: 3000.0,
};

/// The send stage.
pub struct Send {
    deps: Deps,
    api: BotApi,
    lease: Duration,
    bulk: Rule,
    global: Option<Rule>,
}

impl Send {
    /// Builds the stage and starts its sweeper.
    pub async fn new(s: Settings, deps: Deps) -> Result<Self, String> {
        let api = BotApi::new(&s.telegram, s.timeout)?;
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
            lease: s.timeout + Duration::from_secs(2),
            bulk: per(s.bulk_per_sec),
            global: (s.global_per_sec > 0.0).then(|| per(s.global_per_sec)),
            deps,
        })
    }

    /// Waits for the bot-wide limits the effect falls under (its chat's slot was taken with
    /// the claim); `Some(wait)` when it must wait.
    async fn paced(&self, e: &store::Effect) -> Result<Option<Duration>, HandlerError> {
        let pool = &self.deps.pool;
        if e.wait_ms > 0 {
            return Ok(Some(Duration::from_millis(e.wait_ms as u64)));
        }
        let mut keys = Vec::new();
        if e.bulk {
            keys.push(("bulk".to_owned(), self.bulk));
        }
        if let Some(g) = self.global {
            keys.push(("cap".to_owned(), g));
        }
        for (key, rule) in keys {
            let wait = store::pace(pool, &key, rule.interval_ms, rule.burst_ms).await?;
            if !wait.is_zero() {
                return Ok(Some(wait));
            }
        }
        Ok(None)
    }

    /// Sends one effect unless it was sent; `Err(Defer)` when it must wait its turn.
    async fn deliver(&self, id: Uuid, job: Uuid) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        let rules = ChatRules {
            private: (PRIVATE.interval_ms, PRIVATE.burst_ms),
            group: (GROUP.interval_ms, GROUP.burst_ms),
        };
        let e = match store::claim(pool, id, self.lease, job, rules).await? {
            Claim::Done => return Ok(()),
            Claim::Wait(d, why) => return Err(HandlerError::defer(why, d)),
            Claim::Go(e) => e,
        };
        let erasure = erase::of(&e);
        if erasure.is_some() && store::earlier_pending(pool, id).await? {
            store::release(pool, id).await?;
            return Err(HandlerError::defer(
                "the erased chat's earlier sends go first",
                erase::EARLIER_FIRST,
            ));
        }
        if e.unreachable {
            store::failed(pool, id, "the user cannot be reached").await?;
            return self.finished(id, &e, erasure).await;
        }
        if e.visible
            && let Some(wait) = self.paced(&e).await?
        {
            store::release(pool, id).await?;
            return Err(HandlerError::defer("paced", wait));
        }
        let Some((method, params)) = resolve(&e) else {
            // A streaming step of a message that never went out: the final text follows.
            store::sent(pool, id, &serde_json::Value::Null).await?;
            return Ok(());
        };
        let (params, upload) = upload_of(&e, params);
        let mut outcome = self.api.call(method, &params, upload).await;
        if let Err(TgError::Permanent(why)) = &outcome
            && method == "editMessageText"
            && e.params.get(OR_SEND) == Some(&serde_json::Value::Bool(true))
        {
            // A final text whose message cannot be edited (deleted by the user, too old)
            // still lands, as a new message.
            tracing::info!(%why, "the message could not be edited; sending the text anew");
            outcome = self
                .api
                .call("sendMessage", &as_new_message(&e.params), None)
                .await;
        }
        if let Err(TgError::Permanent(why)) = &outcome
            && method == "sendPhoto"
            && e.blob.is_none()
            && call::unknown_file(why)
            && let Some(again) = call::upload_again(&self.api, pool, id, &params).await?
        {
            outcome = again;
        }
        match outcome {
            Ok(result) => store::sent(pool, id, &result).await?,
            Err(TgError::NotModified) => store::sent(pool, id, &serde_json::Value::Null).await?,
            Err(TgError::RetryAfter(d)) => {
                let rule = chat_rule(e.chat_id);
                let key = format!("chat:{}", e.chat_id);
                if store::pause(pool, &key, d, rule.interval_ms).await? {
                    tracing::warn!(
                        retry_after_s = d.as_secs_f64(),
                        "flood wait for the whole bot"
                    );
                    store::pause(pool, "global", d, 0.0).await?;
                }
                store::release(pool, id).await?;
                return Err(HandlerError::defer("telegram 429", d));
            }
            Err(TgError::Unreachable(why)) => {
                let dropped = store::unreachable(pool, e.chat_id, &why).await?;
                tracing::info!(chat_id = e.chat_id, dropped, %why, "chat unreachable; its sends are dropped");
            }
            Err(TgError::Transient(why)) => {
                let tries = store::failed_try(pool, id, &why).await?;
                if i64::from(tries) < MAX_DELIVER {
                    return Err(HandlerError::defer(why, backoff(i64::from(tries))));
                }
                self.give_up(id, &e, &why).await?;
            }
            // A passing step of a streamed answer: the final text follows; nothing to say.
            Err(TgError::Permanent(why))
                if e.params.get(EDIT_OF).is_some() && e.params[OR_SEND] != true =>
            {
                tracing::info!(effect = %id, %why, "a streaming step could not be shown");
                store::failed(pool, id, &why).await?;
            }
            Err(TgError::Permanent(why)) => self.give_up(id, &e, &why).await?,
        }
        self.finished(id, &e, erasure).await
    }

    /// Marks an effect failed and, for a message the user was waiting for, says sorry.
    async fn give_up(&self, id: Uuid, e: &store::Effect, why: &str) -> Result<(), HandlerError> {
        tracing::error!(effect = %id, method = %e.method, %why, "effect failed for good");
        store::failed(&self.deps.pool, id, why).await?;
        if e.visible && !e.notice {
            let mut d = Decision::new(format!("effect-{id}"), id.to_string());
            let lang = store::lang_of(&self.deps.pool, e.chat_id).await?;
            d.notice(e.chat_id, t(lang, T::Sorry), &[]);
            let committed = d.commit(self.deps.pool.begin().await?).await?;
            self.deps.outbox.publish(committed).await?;
        }
        Ok(())
    }
}

fn chat_rule(chat_id: i64) -> Rule {
    if chat_id < 0 { GROUP } else { PRIVATE }
}

impl Stage for Send {
    type Input = Envelope<SendJob>;
    const SPEC: shared::topology::StageSpec = SEND_STAGE;
    const CONCURRENCY: usize = 256;
    const NOTIFY_ON_FAILURE: bool = false;

    async fn handle(&self, env: Envelope<SendJob>) -> Result<(), HandlerError> {
        let job = &env.payload;
        for id in &job.effects {
            self.deliver(*id, env.id).await?;
        }
        if let Some(action) = &job.action {
            let params = serde_json::json!({"chat_id": job.chat_id, "action": action});
            if let Err(e) = self.api.call("sendChatAction", &params, None).await {
                tracing::debug!(error = %e, "chat action not shown");
            }
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
