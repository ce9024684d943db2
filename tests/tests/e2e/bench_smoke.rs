//! The bench harness at a tiny size, so it cannot rot. No timing is asserted: only that every
//! phase ran and produced figures.

use standins::bench::{Sizes, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_every_phase_at_a_tiny_size() {
    let sizes = Sizes {
        users: 6,
        turns: 2,
        latency_users: 2,
        latency_turns: 3,
        webhook: 40,
        photos: 3,
        count_turns: 3,
        real_users: 5,
        real_telegram_ms: 5,
        real_llm_ms: 300,
    };
    let report = run(&sizes).await.unwrap();
    assert!(report.webhook_per_s > 0.0 && report.turns_per_s > 0.0 && report.photos_per_s > 0.0);
    assert!(report.floor_turns_per_s > 0.0);
    assert!(report.overhead_light.max >= report.overhead_light.p50);
    assert_eq!(
        report.functions.len(),
        runtime::nats::topology::FUNCTIONS.len()
    );
    assert!(
        report
            .functions
            .iter()
            .all(|f| f.ready_ms > 0.0 && f.rss_idle_mb > 0.0 && f.rss_after_mb > 0.0)
    );
    assert_eq!(report.realistic.duplicates, 0);
    let c = &report.turn_cost;
    assert!(
        c.sql >= 1.0 && c.publishes >= 2.0,
        "counted on the wire: {c:?}"
    );
    assert!(report.realistic.max_in_flight >= 1 && report.realistic.turn.max >= 300.0);
    let table = report.table();
    assert!(
        table.contains("text turns /s") && table.contains("fn-ingress"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_admin_renders_every_section_at_a_tiny_size() {
    let report = standins::bench::admin::run(300).await.unwrap();
    let users = report.rows.iter().find(|(t, _)| t == "users").unwrap().1;
    assert_eq!(users, 300);
    assert_eq!(
        report.sections.len(),
        companion::ui::admin::Section::ALL.len() + 2
    );
    let charted: Vec<&str> = report
        .sections
        .iter()
        .filter(|s| s.chart_bytes.is_some_and(|b| b > 10_000))
        .map(|s| s.section.as_str())
        .collect();
    assert_eq!(charted, ["retention", "daily"]);
    assert!(report.table().contains("users: one user"));
}
