//! One effect's delivery, carried out: claimed under a lease, in its chat's order and pace,
//! sent, and its outcome recorded under the same lease. What to do at each step is decided in
//! [`crate::plan`]; this module gathers the facts (the claim, the bot-wide pace, Telegram's
//! answer) and does what the plan says: store, pause, wait, retry, apologise.

use companion::locale::{T, t};
use runtime::HandlerError;
use runtime::effects::Decision;
use runtime::telegram::TgError;
use uuid::Uuid;

use crate::call::{self, as_new_message, resolve, upload_of};
use crate::lease::{self, ChatRules, Claim, Lease};
use crate::plan::{self, Facts, Failure, Fallback, Plan, Stale, Unclaimed};
use crate::{GROUP, PRIVATE, Send, chat_rule, erase, store};

impl Send {
    /// Takes the bot-wide send slots a message the user sees falls under (bulk, the optional
    /// cap; its chat's slot came with the claim); `Some(wait)` when it must wait.
    async fn bot_wide_pace(
        &self,
        e: &store::Effect,
    ) -> Result<Option<std::time::Duration>, HandlerError> {
        if !e.visible {
            return Ok(None);
        }
        let mut keys = Vec::new();
        if e.bulk {
            keys.push(("bulk".to_owned(), self.bulk));
        }
        if let Some(g) = self.global {
            keys.push(("cap".to_owned(), g));
        }
        for (key, rule) in keys {
            let wait = store::pace(&self.deps.pool, &key, rule.interval_ms, rule.burst_ms).await?;
            if !wait.is_zero() {
                return Ok(Some(wait));
            }
        }
        Ok(None)
    }

    /// Sends one effect unless it was sent; `Err(Defer)` when it must wait its turn.
    pub(crate) async fn deliver(&self, id: Uuid, job: Uuid) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        let rules = ChatRules {
            private: (PRIVATE.interval_ms, PRIVATE.burst_ms),
            group: (GROUP.interval_ms, GROUP.burst_ms),
        };
        let (e, l) = match lease::claim(pool, id, self.lease, job, rules).await? {
            Claim::Go(e, l) => (e, l),
            Claim::Not(row) => return self.not_ours(id, plan::unclaimed(row)).await,
        };
        self.waits.done(id);
        let erasure = erase::of(&e);
        let earlier_first = erasure.is_some() && store::earlier_pending(pool, id).await?;
        let facts = Facts::of(&e, earlier_first);
        let ours = Ours { e: &e, l, erasure };
        if let Some(p) = plan::before_call(&facts) {
            return self.carry(p, ours).await;
        }
        if let Some(wait) = self.bot_wide_pace(&e).await? {
            return self.carry(plan::paced(wait), ours).await;
        }
        let Some((method, params)) = resolve(&e) else {
            return self.carry(Plan::Drop(Stale::NeverSent), ours).await;
        };
        let (params, upload) = upload_of(&e, params);
        let mut answer = self.api.call(method, &params, upload).await;
        match plan::fallback(method, &facts, &answer) {
            Some(Fallback::SendAnew) => {
                if let Err(TgError::Permanent(why)) = &answer {
                    tracing::info!(%why, "the message could not be edited; sending the text anew");
                }
                let anew = as_new_message(&e.params);
                answer = self.api.call("sendMessage", &anew, None).await;
            }
            Some(Fallback::UploadAgain) => {
                if let Some(again) =
                    call::upload_again(&self.api, pool, id, &params, &e.params).await?
                {
                    answer = again;
                }
            }
            None => {}
        }
        let p = plan::answered(answer, &facts, self.give_up_after);
        self.carry(p, ours).await
    }

    /// Does what the plan says of an effect the claim did not take.
    async fn not_ours(&self, id: Uuid, u: Unclaimed) -> Result<(), HandlerError> {
        match u {
            Unclaimed::LookAgain { floor, why } => {
                Err(HandlerError::defer(why, self.waits.next(id, floor)))
            }
            Unclaimed::Nothing => {
                self.waits.done(id);
                Ok(())
            }
            // Sent, but the erasure it ends did not finish (a step failed): finish it now.
            Unclaimed::FinishErasure { chat_id, erasure } => {
                self.waits.done(id);
                self.finished(id, chat_id, Some(erasure)).await
            }
        }
    }

    /// Does what the plan says of an effect that is ours: stores the outcome under the lease,
    /// then finishes the erasure it ends (if it ends one and is done with), or hands the job
    /// back to wait.
    async fn carry(&self, p: Plan, o: Ours<'_>) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        let Ours { e, l, erasure } = o;
        match p {
            Plan::Wait { why, wait } => {
                lease::release(pool, l).await?;
                return Err(HandlerError::defer(why, wait));
            }
            Plan::Drop(stale) => {
                if stale == Stale::Superseded {
                    // The final text carries it, and must be the last thing the user sees.
                    tracing::debug!(effect = %l.id, "a streaming step the final text superseded; dropped");
                }
                lease::sent(pool, l, &serde_json::Value::Null).await?;
                return Ok(());
            }
            Plan::Sent(result) => self.sent(l, &result).await?,
            Plan::Fail(why, failure) => self.fail(l, e, &why, failure).await?,
            Plan::Unreachable(why) => {
                let dropped = store::unreachable(pool, e.chat_id, &why).await?;
                tracing::info!(chat_id = e.chat_id, dropped, %why, "chat unreachable; its sends are dropped");
            }
            Plan::Pause {
                pause,
                chat_paced,
                wait,
            } => {
                let rule = chat_rule(e.chat_id);
                let key = format!("chat:{}", e.chat_id);
                let within = store::pause(pool, &key, pause, rule.interval_ms).await?;
                if within && chat_paced {
                    tracing::warn!(
                        retry_after_s = pause.as_secs_f64(),
                        "flood wait for the whole bot"
                    );
                    store::pause(pool, "global", pause, 0.0).await?;
                    self.actions.paused_now();
                }
                lease::release(pool, l).await?;
                return Err(HandlerError::defer("telegram 429", wait));
            }
            Plan::Retry(why) => {
                let Some(tries) = lease::failed_try(pool, l, &why).await? else {
                    return Ok(());
                };
                tracing::warn!(effect = %l.id, tries, %why, "Telegram failed; trying again");
                return Err(HandlerError::defer(why, plan::send_backoff(tries)));
            }
        }
        self.finished(l.id, e.chat_id, erasure).await
    }

    /// Marks a claimed effect sent; a claim that was taken over meanwhile is only logged.
    async fn sent(&self, l: Lease, result: &serde_json::Value) -> Result<(), HandlerError> {
        if !lease::sent(&self.deps.pool, l, result).await? {
            tracing::warn!(effect = %l.id, "the lease ran out before the send finished; another sender holds it");
        }
        Ok(())
    }

    /// Marks a claimed effect failed for good and, when the plan says so, says sorry.
    async fn fail(
        &self,
        l: Lease,
        e: &store::Effect,
        why: &str,
        failure: Failure,
    ) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        let sorry = match failure {
            Failure::UserGone => false,
            Failure::StepRefused => {
                tracing::info!(effect = %l.id, %why, "a streaming step could not be shown");
                false
            }
            Failure::StepDropped => {
                tracing::info!(effect = %l.id, %why, "a streaming step dropped; the final text follows");
                false
            }
            Failure::ForGood { sorry } => {
                tracing::error!(effect = %l.id, method = %e.method, %why, "effect failed for good");
                sorry
            }
        };
        // Not ours any more: the sender that took the claim over finishes the effect, and
        // says what it must.
        if lease::failed(pool, l, why).await? && sorry {
            self.apologise(l.id, e.chat_id).await?;
        }
        Ok(())
    }

    /// Says sorry in chat `chat_id` for effect `id`, which the user was waiting for.
    async fn apologise(&self, id: Uuid, chat_id: i64) -> Result<(), HandlerError> {
        let mut d = Decision::new(format!("effect-{id}"), id.to_string());
        let lang = store::lang_of(&self.deps.pool, chat_id).await?;
        d.notice(chat_id, t(lang, T::Sorry), &[]);
        let committed = d.commit(self.deps.pool.begin().await?).await?;
        self.deps.outbox.publish(committed).await?;
        Ok(())
    }
}

/// An effect that is ours: the row, its lease, and the erasure it ends (if it is one).
struct Ours<'a> {
    e: &'a store::Effect,
    l: Lease,
    erasure: Option<Uuid>,
}
