//! The chaos run at a small size (the long one is `make chaos`): functions killed with SIGKILL
//! every 1.5 s and nats-server once while users write; nothing lost, nothing doubled in the
//! database, answers in order, no dead letters.

use std::time::Duration;

use standins::chaos::{ChaosSizes, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_everywhere_lose_nothing_and_double_nothing() {
    let sizes = ChaosSizes {
        users: 12,
        turns: 96,
        photos: 6,
        kill_every: Duration::from_millis(1500),
        nats_kills: 1,
        llm_ms: 200,
        think_ms: 300,
        ack_wait_secs: 2,
        nudge_silence_secs: 0,
    };
    let report = run(&sizes).await.unwrap();
    println!("{}", report.table());
    assert!(report.kills >= 3, "the driver did kill: {}", report.kills);
    assert_eq!(report.nats_restarts, 1);
    assert!(
        report.failures().is_empty(),
        "{}",
        report.failures().join("; ")
    );
}
