//! The deployment files checked against the code and the README: `infra/compose.yaml` runs
//! every function (and NATS, PostgreSQL, a one-shot migrate) with health checks and volumes,
//! and sets only variables the README's table documents.

use std::collections::BTreeSet;

use serde_yaml::Value;
use standins::harness::root;

/// The variables the README's table documents.
fn documented() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let mut v: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    v.apply_merge().unwrap();
    v
}

#[test]
fn compose_runs_every_function_with_documented_settings() {
    let compose = yaml("infra/compose.yaml");
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    for f in shared::topology::FUNCTIONS {
        assert!(names.contains(f), "{f} has no service");
    }
    for infra in ["nats", "postgres", "migrate"] {
        assert!(names.contains(infra), "{infra} missing");
    }
    assert!(
        compose["services"]["nats"]["command"]
            .as_sequence()
            .unwrap()
            .contains(&Value::from("-js")),
        "JetStream on"
    );
    assert!(compose["volumes"]["nats"].is_null() && compose["volumes"]["postgres"].is_null());
    let known = documented();
    assert!(
        known.contains("DATABASE_URL") && known.len() > 30,
        "README table read"
    );
    for f in shared::topology::FUNCTIONS {
        let s = &compose["services"][f];
        assert!(
            s["image"]
                .as_str()
                .unwrap()
                .contains(&format!("companion/{f}:")),
            "{f}'s image"
        );
        let check = s["healthcheck"]["test"]
            .as_sequence()
            .expect("a health check");
        assert_eq!(check.last().and_then(Value::as_str), Some("healthcheck"));
        assert_eq!(
            s["depends_on"]["migrate"]["condition"], "service_completed_successfully",
            "{f} starts after the migration"
        );
        let env = s["environment"].as_mapping().expect("environment");
        for key in env.keys().filter_map(Value::as_str) {
            assert!(
                known.contains(key),
                "{f} sets {key}, which the README does not document"
            );
        }
        assert!(env.contains_key("NATS_URL") && env.contains_key("DATABASE_URL"));
    }
    assert_eq!(
        compose["services"]["fn-send"]["environment"]["BOT_TOKEN"], "${BOT_TOKEN:?set BOT_TOKEN}",
        "the token comes from outside, never from the file"
    );
}
