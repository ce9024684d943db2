//! `infra/prometheus/` against the manifests and the rules: each shipped Prometheus
//! configuration loads alerts.yml and defines every scrape job that `up{job="…"}` names in the
//! alert rules and the Grafana dashboard; on Kubernetes that job keeps the pods every function's
//! Deployment makes (labels, scrape annotation, the `ops` port), and for compose it lists every
//! function's ops port. (`make check-deploy` also validates the files against Prometheus'
//! schemas and parses every expression.)

use std::collections::BTreeSet;

use runtime::nats::topology::{ALL_FUNCTIONS, FUNCTIONS};
use serde_yaml::Value;
use standins::harness::root;

use super::{k8s_documents, named, yaml};

const CONFIGS: [&str; 2] = [
    "infra/prometheus/prometheus.yml",
    "infra/prometheus/prometheus-compose.yml",
];

/// Every job named as `job="…"` in the rules and the dashboard.
fn jobs_named() -> BTreeSet<String> {
    let mut jobs = BTreeSet::new();
    for file in [
        "infra/prometheus/alerts.yml",
        "infra/grafana/companion.json",
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        // The dashboard's JSON escapes the quotes.
        let text = text.replace("\\\"", "\"");
        for rest in text.split("job=\"").skip(1) {
            jobs.insert(rest.split('"').next().unwrap().to_owned());
        }
    }
    jobs
}

#[test]
fn prometheus_scrapes_the_jobs_the_alerts_and_the_dashboard_name() {
    let named_jobs = jobs_named();
    assert!(named_jobs.contains("companion"), "{named_jobs:?}");
    for path in CONFIGS {
        let config = yaml(path);
        assert_eq!(config["rule_files"][0], "alerts.yml", "{path}");
        let jobs: BTreeSet<&str> = config["scrape_configs"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|j| j["job_name"].as_str())
            .collect();
        for job in &named_jobs {
            assert!(jobs.contains(job.as_str()), "{path}: no scrape job {job}");
        }
    }
}

#[test]
fn every_function_is_a_target_on_kubernetes_and_compose() {
    let k8s = yaml(CONFIGS[0]);
    let job = &k8s["scrape_configs"][0];
    let relabel = format!("{:?}", job["relabel_configs"]);
    for kept in [
        "__meta_kubernetes_pod_label_app_kubernetes_io_part_of",
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
        "__meta_kubernetes_pod_container_port_name",
    ] {
        assert!(relabel.contains(kept), "{kept}");
    }
    let docs = k8s_documents();
    for f in ALL_FUNCTIONS {
        let d = named(&docs, "Deployment", f).unwrap();
        let template = &d["spec"]["template"];
        assert_eq!(
            template["metadata"]["labels"]["app.kubernetes.io/part-of"],
            "companion"
        );
        let annotations = &template["metadata"]["annotations"];
        assert_eq!(annotations["prometheus.io/scrape"], "true", "{f}");
        let ports = &template["spec"]["containers"][0]["ports"];
        let ops = ports
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "ops");
        assert_eq!(
            ops.map(|p| p["containerPort"].clone()),
            Some(Value::from(9100))
        );
    }
    let compose = yaml(CONFIGS[1]);
    let targets = format!("{:?}", compose["scrape_configs"][0]["static_configs"]);
    let services = yaml("infra/compose.yaml");
    for f in FUNCTIONS {
        let ops = services["services"][f]["environment"]["OPS_ADDR"]
            .as_str()
            .unwrap();
        let port = ops.rsplit_once(':').unwrap().1;
        assert!(targets.contains(&format!("{f}:{port}")), "{f}: no target");
    }
}
