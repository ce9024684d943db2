//! The deployment files checked against the code and the README: `infra/compose.yaml` runs
//! every function (and NATS, PostgreSQL, a one-shot migrate) with health checks and volumes;
//! `infra/k8s/` has a Deployment with probes and a PodDisruptionBudget per function, a KEDA
//! ScaledObject per stage on its own consumer, a migrate Job, the NATS cluster; both set only
//! variables the README's table documents, run NATS from the shipped `infra/nats/` files, and
//! connect each function as its own user (migrate as `admin`); `infra/prometheus/` defines the
//! scrape job its alerts and the dashboard name. (`make check-deploy` runs the real tools —
//! kubernetes-validate, nats-server -t, podman-compose, hadolint, a PromQL parser — on them.)
//!
//! Here: what they all read (the README's table, a YAML file, the k8s documents); the checks
//! by file set are in `compose`, `kubernetes`, `nats` and `monitoring`.

mod compose;
mod kubernetes;
mod monitoring;
mod nats;

use std::collections::BTreeSet;

use serde::Deserialize;
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

/// Every document of every file under `infra/k8s/`: (file name, kind, document).
fn k8s_documents() -> Vec<(String, String, Value)> {
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(root().join("infra/k8s")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for d in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let kind = v["kind"].as_str().unwrap_or_default().to_owned();
            docs.push((file.clone(), kind, v));
        }
    }
    docs
}

/// The document of `kind` named `name` among `docs`.
fn named(docs: &[(String, String, Value)], kind: &str, name: &str) -> Option<Value> {
    docs.iter()
        .find(|(_, k, d)| k == kind && d["metadata"]["name"] == name)
        .map(|(_, _, d)| d.clone())
}
