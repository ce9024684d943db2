//! The ops port of a function (`OPS_ADDR`): alive, ready while its database, broker and consumer
//! are, and Prometheus metrics that count what it handled, how long it took, its outside calls
//! and its consumer's queue; the dashboards and alert rules use only names it exports.

use std::time::Duration;

use standins::harness::{free_port, wait_for};
use standins::system::System;

use crate::helpers::{Chat, STEP, get, sample};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_reports_health_readiness_and_metrics() {
    let sys = System::start("ops", &[]).await.unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    // fn-reply's copy with an ops port takes over.
    sys.stop_copy("fn-reply");
    sys.start_copy("fn-reply", "fn-reply-ops", &[("OPS_ADDR", addr.as_str())])
        .await
        .unwrap();
    let base = format!("http://{addr}");
    assert_eq!(get(&format!("{base}/healthz")).await.0, 200);
    assert_eq!(
        get(&format!("{base}/readyz")).await,
        (200, "ready\n".to_owned())
    );

    let chat = Chat::new(&sys, 8801);
    chat.open_dialog().await;
    // The model is busy once (429, retried after a second), then answers.
    sys.llm.push(vec![standins::script::Step {
        status: 429,
        retry_after: Some("1".into()),
        ..Default::default()
    }]);
    chat.turn("how are you?").await;
    let metrics = wait_for("the reply counted", STEP, || {
        let url = format!("{base}/metrics");
        async move {
            let (_, m) = get(&url).await;
            sample(
                &m,
                "companion_messages_total",
                &["stage=\"fn-reply\"", "outcome=\"ack\""],
            )
            .filter(|n| *n >= 1.0)
            .map(|_| m)
        }
    })
    .await
    .unwrap();
    // Everything but Telegram's (fn-send calls it, not fn-reply).
    for name in runtime::ops::NAMES {
        if !name.starts_with("companion_telegram") {
            assert!(metrics.contains(name), "{name} missing:\n{metrics}");
        }
    }
    // Where the job's time went: from its publish to its ack, and the handler's parts (the
    // SQL read from sqlx's own events, the LLM call, the commit, the send job's publish).
    for part in [
        "queue", "sql", "outside", "commit", "publish", "other", "total",
    ] {
        let label = format!("part=\"{part}\"");
        let n = sample(
            &metrics,
            "companion_hop_seconds_count",
            &["stage=\"fn-reply\"", &label],
        );
        assert!(n.is_some_and(|n| n >= 1.0), "{part}: {n:?}\n{metrics}");
        let spent = sample(
            &metrics,
            "companion_hop_seconds_sum",
            &["stage=\"fn-reply\"", &label],
        );
        assert!(spent.is_some_and(|s| s > 0.0), "{part}: {spent:?}");
    }
    // A part the stage never enters is not reported (fn-reply reads nothing from the broker).
    assert!(!metrics.contains("part=\"nats\""), "{metrics}");
    let statements = sample(&metrics, "companion_sql_statements_total", &["fn-reply"]);
    assert!(statements.is_some_and(|n| n >= 2.0), "{statements:?}");
    assert_eq!(
        sample(
            &metrics,
            "companion_api_errors_total",
            &["api=\"llm\"", "status=\"429\""]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "companion_messages_total",
            &["fn-reply", "outcome=\"nak\""]
        ),
        Some(1.0),
        "the busy model's try"
    );
    assert!(sample(&metrics, "companion_handle_seconds_count", &["fn-reply"]).unwrap() >= 1.0);
    assert!(sample(&metrics, "companion_api_seconds_count", &["api=\"llm\""]).unwrap() >= 1.0);
    assert_eq!(
        sample(&metrics, "companion_consumer_pending", &["fn-reply"]),
        Some(0.0)
    );
    assert_eq!(
        sample(&metrics, "companion_in_flight", &["fn-reply"]),
        Some(0.0)
    );

    // The broker gone: not ready, still alive; back: ready again.
    sys.nats.stop();
    wait_for("not ready without NATS", Duration::from_secs(20), || {
        let url = format!("{base}/readyz");
        async move {
            let (code, body) = get(&url).await;
            (code == 503 && body.contains("nats")).then_some(())
        }
    })
    .await
    .unwrap();
    assert_eq!(get(&format!("{base}/healthz")).await.0, 200);
    sys.nats.resume().unwrap();
    wait_for("ready again", Duration::from_secs(30), || {
        let url = format!("{base}/readyz");
        async move { (get(&url).await.0 == 200).then_some(()) }
    })
    .await
    .unwrap();
}

#[test]
fn dashboards_and_alert_rules_use_only_exported_metrics() {
    let root = standins::harness::root();
    let dashboard = std::fs::read_to_string(root.join("infra/grafana/companion.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("dashboard is JSON");
    assert!(parsed["panels"].as_array().is_some_and(|p| p.len() >= 6));
    let alerts = std::fs::read_to_string(root.join("infra/prometheus/alerts.yml")).unwrap();
    let mut used = std::collections::BTreeSet::new();
    for text in [&dashboard, &alerts] {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("companion_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            rest = &rest[at + name.len()..];
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name)
                .to_owned();
            used.insert(base);
        }
    }
    for name in &used {
        assert!(
            runtime::ops::NAMES.contains(&name.as_str()),
            "{name} is not exported"
        );
    }
    for wanted in [
        "companion_messages_total",
        "companion_consumer_pending",
        "companion_telegram_errors_total",
        "companion_api_errors_total",
    ] {
        assert!(used.contains(wanted), "{wanted} unused");
    }
}
