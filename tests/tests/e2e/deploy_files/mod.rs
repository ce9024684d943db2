//! The deployment files checked against the code and the README: `infra/compose.yaml` runs
//! every function (and NATS, PostgreSQL, a one-shot migrate) with health checks and volumes;
//! `infra/k8s/` has a Deployment with probes and a PodDisruptionBudget per function, a KEDA
//! ScaledObject per stage on its own consumer, a migrate Job, the NATS cluster; both set only
//! variables the README's table documents, run NATS from the shipped `infra/nats/` files, and
//! connect each function as its own user (migrate as `admin`).
//!
//! Here: what both read (the README's table, a YAML file); the checks by file set are in
//! `compose` and `kubernetes`.

mod compose;
mod kubernetes;

use std::collections::BTreeSet;

use serde_yaml::Value;
use standins::harness::root;

/// The variables the README's table documents.
fn documented() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    // Every name in backticks in a row's first cell (a row may document several).
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split(" |").next())
        .flat_map(|cell| {
            cell.split('`')
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|name| !name.trim_matches([',', ' ']).is_empty())
        .collect()
}

/// A YAML file of the repository, merge keys applied.
fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let mut v: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    v.apply_merge().unwrap();
    v
}
