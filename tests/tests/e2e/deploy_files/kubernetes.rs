//! `infra/k8s/` checked against the code and the README: per function (fn-bridge too) a
//! Deployment with probes, a grace period longer than its longest call, its own NATS user and
//! only documented variables, and a PodDisruptionBudget; a KEDA ScaledObject per stage on its
//! own consumer, and no `replicas` on a Deployment KEDA scales (a re-apply would reset it) while
//! the others keep theirs; a migrate Job as `admin`; every file listed in the kustomization but
//! the example Secret, which has every key the manifests read.

use std::collections::BTreeSet;

use runtime::nats::topology::{ALL_FUNCTIONS, BRIDGE, STAGES};
use serde_yaml::Value;
use standins::harness::root;

use super::{documented, k8s_documents, named, yaml};

/// The longest call each function may be in the middle of when it is told to stop, at the
/// default settings: the LLM (`LLM_TIMEOUT_SECS`), a ComfyUI render (`COMFYUI_MAX_SECS`), a
/// photo scene (`SCENE_TIMEOUT_SECS`), a send's lease with a 10 MB upload's allowance; the
/// bridge's is its `BRIDGE_TIMEOUT_SECS`, read from its ConfigMap.
const LONGEST_CALL_SECS: [(&str, u64); 4] = [
    ("fn-reply", 120),
    ("fn-image", 600),
    ("fn-prompt", 20),
    ("fn-send", 65),
];

/// The example Secret: not applied by the kustomization, holding every key read from it.
const EXAMPLE_SECRET: &str = "secrets.example.yaml";

fn longest_call(docs: &[(String, String, Value)], f: &str) -> u64 {
    if f == BRIDGE {
        let routes = named(docs, "ConfigMap", BRIDGE).expect("fn-bridge's ConfigMap");
        let timeout = routes["data"]["BRIDGE_TIMEOUT_SECS"].as_str().unwrap();
        return timeout.parse().unwrap();
    }
    LONGEST_CALL_SECS
        .iter()
        .find(|(name, _)| *name == f)
        .map_or(0, |(_, s)| *s)
}

#[test]
fn kubernetes_manifests_cover_every_function_with_probes_budgets_and_scalers() {
    let docs = k8s_documents();
    let known = documented();
    let nats_conf = std::fs::read_to_string(root().join("infra/nats/users.conf")).unwrap();
    let nats_users: BTreeSet<&str> = nats_conf
        .split("user: ")
        .skip(1)
        .filter_map(|rest| rest.split(',').next())
        .collect();
    for name in ["companion-config", BRIDGE] {
        let config = named(&docs, "ConfigMap", name).expect("config");
        for key in config["data"].as_mapping().unwrap().keys() {
            assert!(
                known.contains(key.as_str().unwrap()),
                "{name}: {key:?} is not documented"
            );
        }
    }
    for f in ALL_FUNCTIONS {
        let d = named(&docs, "Deployment", f).unwrap_or_else(|| panic!("{f}: no Deployment"));
        // SIGTERM drains in-flight work: the pod must be given the longest call it may be in.
        let grace = d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            .as_u64()
            .unwrap_or(30);
        let longest = longest_call(&docs, f);
        assert!(
            grace >= longest + 10,
            "{f}: terminationGracePeriodSeconds {grace} < its longest call {longest} s + 10"
        );
        // KEDA owns the copies of what it scales: a `replicas` there would reset them on apply.
        let scaled = named(&docs, "ScaledObject", f).is_some();
        assert_eq!(
            d["spec"].get("replicas").is_none(),
            scaled,
            "{f}: `replicas` only where KEDA does not scale"
        );
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz", "{f}");
        assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz", "{f}");
        assert!(c["resources"]["requests"]["memory"].is_string(), "{f}");
        // Each function connects as its own NATS user, one that infra/nats/users.conf has.
        let env = c["env"].as_sequence().unwrap();
        let user = env.iter().find(|e| e["name"] == "NATS_USER");
        assert_eq!(
            user.map(|e| e["value"].clone()),
            Some(Value::from(f)),
            "{f}"
        );
        assert!(
            nats_users.contains(f),
            "{f}: no user in infra/nats/users.conf"
        );
        let password = env.iter().find(|e| e["name"] == "NATS_PASSWORD").unwrap();
        let key = format!("NATS_PASSWORD_{}", f.to_uppercase().replace('-', "_"));
        assert_eq!(
            password["valueFrom"]["secretKeyRef"]["key"].as_str(),
            Some(key.as_str())
        );
        assert!(
            nats_conf.contains(&format!("user: {f}, password: ${key}")),
            "{f}: {key} is not {f}'s password in users.conf"
        );
        for e in env {
            let name = e["name"].as_str().unwrap();
            assert!(
                known.contains(name),
                "{f} sets {name}, which the README does not document"
            );
        }
        assert!(
            named(&docs, "PodDisruptionBudget", f).is_some(),
            "{f}: no PodDisruptionBudget"
        );
    }
    for stage in STAGES {
        let s = named(&docs, "ScaledObject", stage.name)
            .unwrap_or_else(|| panic!("{}: no ScaledObject", stage.name));
        let t = &s["spec"]["triggers"][0];
        assert_eq!(t["type"], "nats-jetstream");
        assert_eq!(
            t["metadata"]["consumer"], stage.name,
            "scales on its own consumer"
        );
        assert_eq!(t["metadata"]["stream"], stage.stream);
    }
    let job = named(&docs, "Job", "migrate").expect("a migrate Job");
    let env = format!(
        "{:?}",
        job["spec"]["template"]["spec"]["containers"][0]["env"]
    );
    assert!(
        env.contains("admin") && env.contains("NATS_PASSWORD_ADMIN"),
        "{env}"
    );
    let labels = &job["spec"]["template"]["metadata"]["labels"];
    assert_eq!(
        labels["app.kubernetes.io/part-of"], "companion",
        "admitted to NATS"
    );
    assert!(
        job["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .contains("companion/migrate")
    );
}

/// Every `secretKeyRef` of `companion-secrets` in a manifest (file, key).
fn secret_keys_read(docs: &[(String, String, Value)]) -> Vec<(String, String)> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Mapping(m) => {
                let r = &v["secretKeyRef"];
                if r["name"] == "companion-secrets" {
                    out.push(r["key"].as_str().unwrap().to_owned());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Sequence(s) => s.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut keys = Vec::new();
    for (file, _, doc) in docs {
        let mut found = Vec::new();
        walk(doc, &mut found);
        keys.extend(found.into_iter().map(|k| (file.clone(), k)));
    }
    keys
}

#[test]
fn kustomization_lists_every_manifest_and_the_example_secret_has_every_key() {
    let kustomization = yaml("infra/k8s/kustomization.yaml");
    let listed: BTreeSet<&str> = kustomization["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for entry in std::fs::read_dir(root().join("infra/k8s")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        match file.as_str() {
            "kustomization.yaml" => {}
            // `kubectl apply -k` must never replace the real Secret with placeholders.
            EXAMPLE_SECRET => assert!(!listed.contains(EXAMPLE_SECRET), "{file} is listed"),
            _ => assert!(listed.contains(file.as_str()), "{file} not listed"),
        }
    }
    let docs = k8s_documents();
    let example = named(&docs, "Secret", "companion-secrets").expect("the example Secret");
    let placeholders = example["stringData"].as_mapping().unwrap();
    let keys = secret_keys_read(&docs);
    assert!(keys.len() > 20, "{keys:?}");
    for (file, key) in keys {
        let value = placeholders.get(key.as_str()).and_then(Value::as_str);
        let value = value.unwrap_or_else(|| panic!("{file} reads {key}, not in {EXAMPLE_SECRET}"));
        assert!(
            value.contains("REPLACE"),
            "{key}: a placeholder, not a value"
        );
    }
}
