//! The realistic section of `make bench`: Telegram answering every call after 30 ms and the
//! LLM after 5 s, `BENCH_REAL_USERS` (1000) users each sending one message at once to one copy
//! of each function. Measures turns per second, each turn's time (webhook accepted → answer at
//! Telegram), the most turns in flight at once, answers sent more than once, and each
//! function's peak resident memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::load::FIRST_USER;
use crate::llm::answer_for;
use crate::system::System;
use crate::updates::{self, User};

/// What the realistic section measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Realistic {
    /// Users, one message each.
    pub users: i64,
    /// Telegram's latency per call, ms.
    pub telegram_ms: u64,
    /// The LLM's time per answer, ms.
    pub llm_ms: u64,
    /// Turns per second over the whole section.
    pub turns_per_s: f64,
    /// Each turn's time, ms.
    pub turn: super::percentiles::Percentiles,
    /// Most turns accepted and not yet answered at one moment.
    pub max_in_flight: i64,
    /// Answers Telegram received more than once.
    pub duplicates: usize,
    /// Each function's highest resident memory during the section, kB (sampled every 50 ms).
    pub peak_rss_kb: HashMap<String, u64>,
}

/// Runs the section on a system whose users `FIRST_USER..` have open dialogs.
pub async fn run(
    sys: &System,
    users: i64,
    telegram_ms: u64,
    llm_ms: u64,
) -> anyhow::Result<Realistic> {
    sys.tg.set_latency(telegram_ms);
    sys.llm.set_default_delay(llm_ms);
    let waiting: Arc<std::sync::Mutex<HashMap<i64, tokio::sync::oneshot::Sender<u64>>>> =
        Arc::default();
    let mut feed = sys.tg.subscribe();
    let w = waiting.clone();
    let listener = tokio::spawn(async move {
        while let Ok(call) = feed.recv().await {
            let chat = call.params["chat_id"].as_i64().unwrap_or(0);
            let text = call.params["text"].as_str().unwrap_or("");
            let wanted = crate::system::shows_text(&call)
                && !call.result.is_null()
                && text == answer_for(&format!("real {chat}"));
            if wanted && let Some(tx) = w.lock().unwrap().remove(&chat) {
                let _ = tx.send(call.at_us);
            }
        }
    });
    let peaks: Arc<std::sync::Mutex<HashMap<String, u64>>> = Arc::default();
    let sampler = {
        let pids: Vec<(String, u32)> = crate::system::FUNCTIONS
            .iter()
            .filter_map(|name| Some((name.to_string(), sys.pid(name)?)))
            .collect();
        let peaks = peaks.clone();
        tokio::spawn(async move {
            loop {
                for (name, pid) in &pids {
                    let kb = super::procfs::rss_kb(*pid).unwrap_or(0);
                    let mut p = peaks.lock().unwrap();
                    let e = p.entry(name.clone()).or_default();
                    *e = (*e).max(kb);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let in_flight = Arc::new(AtomicI64::new(0));
    let peak = Arc::new(AtomicI64::new(0));
    let started = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for u in 0..users {
        let user = User::new(FIRST_USER + u, "Bench");
        let (tx, rx) = tokio::sync::oneshot::channel();
        waiting.lock().unwrap().insert(user.id, tx);
        let (in_flight, peak) = (in_flight.clone(), peak.clone());
        tasks.push(async move {
            let text = format!("real {}", user.id);
            let update = updates::text(sys.tg.next_update_id(), 1000, &user, &text);
            anyhow::ensure!(
                sys.post_update(&update).await == 200,
                "webhook refused a turn"
            );
            let accepted = sys.tg.now_us();
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let at = tokio::time::timeout(Duration::from_secs(120), rx).await??;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, anyhow::Error>(Duration::from_micros(at.saturating_sub(accepted)))
        });
    }
    let mut turns = Vec::with_capacity(users as usize);
    while let Some(t) = tasks.next().await {
        turns.push(t?);
    }
    let wall = started.elapsed();
    sampler.abort();
    // Anything sent twice arrives within a moment of the first: give it that moment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    listener.abort();
    let mut counts: HashMap<(i64, String), usize> = HashMap::new();
    for c in sys.tg.calls() {
        let text = c.params["text"].as_str().unwrap_or("").to_owned();
        if crate::system::shows_text(&c)
            && !c.result.is_null()
            && text.starts_with("I love hearing that: \"real ")
        {
            *counts
                .entry((c.params["chat_id"].as_i64().unwrap_or(0), text))
                .or_default() += 1;
        }
    }
    sys.tg.set_latency(0);
    sys.llm.set_default_delay(0);
    Ok(Realistic {
        users,
        telegram_ms,
        llm_ms,
        turns_per_s: users as f64 / wall.as_secs_f64(),
        turn: super::percentiles::Percentiles::of(turns),
        max_in_flight: peak.load(Ordering::SeqCst),
        duplicates: counts.values().map(|n| n - 1).sum(),
        peak_rss_kb: peaks.lock().unwrap().clone(),
    })
}
