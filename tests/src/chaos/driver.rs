//! The chaos driver: simulated users (as Telegram would send their updates, retrying a webhook
//! call that fails) and the killer (SIGKILL to a random function, restart; nats-server down and
//! up again).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::oneshot;

use crate::telegram::Call;

use super::ChaosSizes;
use crate::bench::{FIRST_USER, Waiters, dispatcher};
use crate::llm::answer_for;
use crate::system::{FUNCTIONS, System};
use crate::updates::{self, User};

/// How long a user waits for an answer before counting it lost.
const PATIENCE: Duration = Duration::from_secs(180);

/// What the users saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Time from the accepted webhook call to the answer, per answered turn.
    pub waits: Vec<Duration>,
    /// Turns and photos never answered.
    pub lost: usize,
    /// Rounds whose two answers arrived in the wrong order.
    pub out_of_order: usize,
    /// Functions killed, and nats-server restarts.
    pub kills: usize,
    /// nats-server restarts.
    pub nats_restarts: usize,
}

/// Posts like Telegram: a refused or failed call is tried again until it is accepted.
async fn post(sys: &System, update: &serde_json::Value) -> u64 {
    loop {
        if sys.post_update(update).await == 200 {
            return sys.tg.now_us();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn wait(rx: oneshot::Receiver<Call>) -> Option<Call> {
    tokio::time::timeout(PATIENCE, rx).await.ok()?.ok()
}

async fn user(
    sys: &System,
    waiters: Waiters,
    id: i64,
    rounds: usize,
    photo: Option<i64>,
    think_ms: u64,
) -> Outcome {
    let user = User::new(id, "Chaos");
    let mut out = Outcome::default();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ id as u64);
    for r in 0..rounds {
        if think_ms > 0 {
            let pause = think_ms / 2 + rng.next(think_ms as usize + 1) as u64;
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        let texts = [format!("c{id} r{r} a"), format!("c{id} r{r} b")];
        let mut rxs = Vec::new();
        for t in &texts {
            let (tx, rx) = oneshot::channel();
            waiters.lock().unwrap().insert((id, answer_for(t)), tx);
            rxs.push(rx);
        }
        let mut sent = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            let u = updates::text(sys.tg.next_update_id(), (r * 2 + i) as i64 + 1, &user, t);
            sent.push(post(sys, &u).await);
        }
        let mut seqs = Vec::new();
        for (rx, at) in rxs.into_iter().zip(sent) {
            match wait(rx).await {
                Some(call) => {
                    out.waits
                        .push(Duration::from_micros(call.at_us.saturating_sub(at)));
                    seqs.push(call.seq);
                }
                None => out.lost += 1,
            }
        }
        if seqs.len() == 2 && seqs[0] > seqs[1] {
            out.out_of_order += 1;
        }
        if let (Some(dialog), true) = (photo, r == rounds / 2) {
            let (tx, rx) = oneshot::channel();
            waiters.lock().unwrap().insert((id, "photo".into()), tx);
            let u = updates::callback(
                sys.tg.next_update_id(),
                &user,
                1,
                &format!("photo:{dialog}"),
            );
            let at = post(sys, &u).await;
            match wait(rx).await {
                Some(call) => out
                    .waits
                    .push(Duration::from_micros(call.at_us.saturating_sub(at))),
                None => out.lost += 1,
            }
        }
    }
    out
}

/// A small xorshift generator: reproducible enough, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

async fn killer(
    sys: &System,
    sizes: &ChaosSizes,
    done: &AtomicBool,
    rounds_total: Duration,
) -> (usize, usize) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ std::process::id() as u64);
    let started = Instant::now();
    let (mut kills, mut nats) = (0, 0);
    while !done.load(Ordering::SeqCst) {
        tokio::time::sleep(sizes.kill_every).await;
        if done.load(Ordering::SeqCst) {
            break;
        }
        let due = (nats + 1) as f64 / (sizes.nats_kills + 1) as f64;
        if nats < sizes.nats_kills
            && started.elapsed().as_secs_f64() >= due * rounds_total.as_secs_f64()
        {
            tracing::warn!("chaos: killing nats-server");
            sys.nats.stop();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            if let Err(e) = sys.nats.resume() {
                tracing::error!(error = %e, "chaos: nats-server did not come back");
            }
            nats += 1;
            continue;
        }
        let name = FUNCTIONS[rng.next(FUNCTIONS.len())];
        tracing::warn!(function = name, "chaos: SIGKILL");
        sys.with_process(name, |p| p.kill9());
        if let Err(e) = sys.start_fn(name).await {
            tracing::error!(function = name, error = %e, "chaos: restart failed; trying again");
            let _ = sys.start_fn(name).await;
        }
        kills += 1;
    }
    (kills, nats)
}

/// Runs the users and the killer until every user is done.
pub async fn drive(
    sys: &System,
    sizes: &ChaosSizes,
    dialogs: &HashMap<i64, i64>,
) -> anyhow::Result<Outcome> {
    let waiters = dispatcher(sys);
    let rounds = (sizes.turns / 2)
        .div_ceil(sizes.users.max(1) as usize)
        .max(1);
    let done = AtomicBool::new(false);
    // The nats-server kills are spread over the expected length of the run.
    let expected =
        Duration::from_millis((rounds as u64) * (2 * sizes.llm_ms + 400 + sizes.think_ms));
    let users = async {
        let mut tasks = FuturesUnordered::new();
        for u in 0..sizes.users {
            let id = FIRST_USER + u;
            let photo = ((u as usize) < sizes.photos).then(|| dialogs[&id]);
            tasks.push(user(
                sys,
                waiters.clone(),
                id,
                rounds,
                photo,
                sizes.think_ms,
            ));
        }
        let mut all = Outcome::default();
        while let Some(o) = tasks.next().await {
            all.waits.extend(o.waits);
            all.lost += o.lost;
            all.out_of_order += o.out_of_order;
        }
        done.store(true, Ordering::SeqCst);
        all
    };
    let (mut outcome, (kills, nats)) = tokio::join!(users, killer(sys, sizes, &done, expected));
    outcome.kills = kills;
    outcome.nats_restarts = nats;
    Ok(outcome)
}
