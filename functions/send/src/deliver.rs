//! One effect's delivery: claimed under a lease, in its chat's order and pace, sent, and its
//! outcome recorded under the same lease. A 429 pauses the chat (and the whole bot only when
//! a paced send was within its chat's limits); a passing failure (5xx, a timeout, a refused
//! connection) is tried again with capped back-off for `SEND_GIVE_UP_SECS` without using up
//! the job's deliveries, except a streaming step, which the final text makes stale anyway.

use std::time::Duration;

use companion::locale::{T, t};
use runtime::HandlerError;
use runtime::effects::{Decision, EDIT_OF, OR_SEND};
use runtime::telegram::TgError;
use uuid::Uuid;

use crate::call::{self, as_new_message, resolve, upload_of};
use crate::lease::{self, ChatRules, Claim, Lease};
use crate::{GROUP, PRIVATE, Send, chat_rule, erase, store};

/// The longest wait between two tries of a failing send: when Telegram is back, an answer
/// goes out within this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The longest a waiting effect goes without being looked at (a long pause is waited out in
/// steps), so the sweeper never mistakes it for one whose job was lost.
const LOOK_AGAIN: Duration = Duration::from_secs(30);

/// Back-off after the n-th failed try (1-based): 1 s, 2 s, 4 s … capped at [`MAX_BACKOFF`].
pub fn send_backoff(tries: i32) -> Duration {
    let exp = (tries.clamp(1, 16) - 1) as u32;
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

impl Send {
    /// Waits for the bot-wide limits the effect falls under (a visible one took its chat's
    /// slot with the claim; one that is not waits out a bot-wide pause); `Some(wait)` when it
    /// must wait.
    async fn paced(&self, e: &store::Effect) -> Result<Option<Duration>, HandlerError> {
        let pool = &self.deps.pool;
        if e.wait_ms > 0 {
            return Ok(Some(Duration::from_millis(e.wait_ms as u64)));
        }
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
            let wait = store::pace(pool, &key, rule.interval_ms, rule.burst_ms).await?;
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
        let claim = lease::claim(pool, id, self.lease, job, rules).await?;
        if !matches!(claim, Claim::Wait(..)) {
            self.waits.done(id);
        }
        let (e, l) = match claim {
            Claim::Done(None) => return Ok(()),
            // Sent, but the erasure it ends did not finish (a step failed): finish it now.
            Claim::Done(Some((chat, erasure))) => {
                return self.finished(id, chat, Some(erasure)).await;
            }
            Claim::Wait(d, why) => return Err(HandlerError::defer(why, self.waits.next(id, d))),
            Claim::Go(e, l) => (e, l),
        };
        let erasure = erase::of(&e);
        if erasure.is_some() && store::earlier_pending(pool, id).await? {
            lease::release(pool, l).await?;
            return Err(HandlerError::defer(
                "the erased chat's earlier sends go first",
                erase::EARLIER_FIRST,
            ));
        }
        if e.superseded {
            // A streaming step (the draft or a passing edit) once the final text exists: the
            // final text carries it, and must be the last thing the user sees.
            tracing::debug!(effect = %id, "a streaming step the final text superseded; dropped");
            lease::sent(pool, l, &serde_json::Value::Null).await?;
            return Ok(());
        }
        if e.unreachable {
            lease::failed(pool, l, "the user cannot be reached").await?;
            return self.finished(id, e.chat_id, erasure).await;
        }
        if let Some(wait) = self.paced(&e).await? {
            lease::release(pool, l).await?;
            return Err(HandlerError::defer("paced", wait.min(LOOK_AGAIN)));
        }
        let Some((method, params)) = resolve(&e) else {
            // A streaming step of a message that never went out: the final text follows.
            lease::sent(pool, l, &serde_json::Value::Null).await?;
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
            && let Some(again) = call::upload_again(&self.api, pool, id, &params, &e.params).await?
        {
            outcome = again;
        }
        match outcome {
            Ok(result) => self.sent(l, &result).await?,
            Err(TgError::NotModified) => self.sent(l, &serde_json::Value::Null).await?,
            Err(TgError::RetryAfter(d)) => {
                let rule = chat_rule(e.chat_id);
                let key = format!("chat:{}", e.chat_id);
                let within = store::pause(pool, &key, d, rule.interval_ms).await?;
                // Only a paced send tells a flood wait of the whole bot from its chat's own:
                // a callback answer or a bot setting has no chat pace to be within.
                if within && e.visible {
                    tracing::warn!(
                        retry_after_s = d.as_secs_f64(),
                        "flood wait for the whole bot"
                    );
                    store::pause(pool, "global", d, 0.0).await?;
                }
                lease::release(pool, l).await?;
                return Err(HandlerError::defer("telegram 429", d.min(LOOK_AGAIN)));
            }
            Err(TgError::Unreachable(why)) => {
                let dropped = store::unreachable(pool, e.chat_id, &why).await?;
                tracing::info!(chat_id = e.chat_id, dropped, %why, "chat unreachable; its sends are dropped");
            }
            Err(TgError::Transient(why)) => return self.transient(l, &e, &why, erasure).await,
            Err(TgError::Permanent(why)) if passing_step(&e) => {
                tracing::info!(effect = %id, %why, "a streaming step could not be shown");
                lease::failed(pool, l, &why).await?;
            }
            Err(TgError::Permanent(why)) => self.give_up(l, &e, &why).await?,
        }
        self.finished(id, e.chat_id, erasure).await
    }

    /// Marks a claimed effect sent; a claim that was taken over meanwhile is only logged.
    async fn sent(&self, l: Lease, result: &serde_json::Value) -> Result<(), HandlerError> {
        if !lease::sent(&self.deps.pool, l, result).await? {
            tracing::warn!(effect = %l.id, "the lease ran out before the send finished; another sender holds it");
        }
        Ok(())
    }

    /// A passing failure: a streaming step is dropped (the final text carries it); anything
    /// else waits and tries again until it has been failing for `SEND_GIVE_UP_SECS`.
    async fn transient(
        &self,
        l: Lease,
        e: &store::Effect,
        why: &str,
        erasure: Option<Uuid>,
    ) -> Result<(), HandlerError> {
        let pool = &self.deps.pool;
        if passing_step(e) {
            tracing::info!(effect = %l.id, %why, "a streaming step dropped; the final text follows");
            lease::failed(pool, l, why).await?;
            return self.finished(l.id, e.chat_id, erasure).await;
        }
        let failing = Duration::from_secs_f64(e.failing_s.unwrap_or(0.0).max(0.0));
        if failing >= self.give_up_after {
            self.give_up(l, e, why).await?;
            return self.finished(l.id, e.chat_id, erasure).await;
        }
        let Some(tries) = lease::failed_try(pool, l, why).await? else {
            return Ok(());
        };
        tracing::warn!(effect = %l.id, tries, %why, "Telegram failed; trying again");
        Err(HandlerError::defer(why, send_backoff(tries)))
    }

    /// Marks an effect failed and, for a message the user was waiting for, says sorry.
    async fn give_up(&self, l: Lease, e: &store::Effect, why: &str) -> Result<(), HandlerError> {
        tracing::error!(effect = %l.id, method = %e.method, %why, "effect failed for good");
        match lease::failed(&self.deps.pool, l, why).await? {
            true => self.notify(l.id, e).await,
            // Another sender took the claim over: it finishes the effect, and says what it must.
            false => Ok(()),
        }
    }

    /// Says sorry for effect `id` when the user was waiting for it.
    async fn notify(&self, id: Uuid, e: &store::Effect) -> Result<(), HandlerError> {
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

/// A passing step of a streamed answer (an edit that is not the final text).
fn passing_step(e: &store::Effect) -> bool {
    e.params.get(EDIT_OF).is_some() && e.params[OR_SEND] != true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_half_a_minute() {
        assert_eq!(send_backoff(1), Duration::from_secs(1));
        assert_eq!(send_backoff(4), Duration::from_secs(8));
        assert_eq!(send_backoff(6), MAX_BACKOFF);
        assert_eq!(send_backoff(500), MAX_BACKOFF);
    }
}
