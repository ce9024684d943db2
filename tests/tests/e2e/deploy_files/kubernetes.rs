//! `infra/k8s/` checked against the code and the README: per function a Deployment with
//! probes, a grace period longer than its longest call, its own NATS user and only documented
//! variables, and a PodDisruptionBudget; a KEDA ScaledObject per stage on its own consumer; the
//! NATS cluster from the shipped `infra/nats/` files; a migrate Job as `admin`; every file
//! listed in the kustomization.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_yaml::Value;
use standins::harness::root;

use super::{documented, yaml};

/// Every document of every file under `infra/k8s/` (kind, document).
fn k8s_documents() -> Vec<(String, Value)> {
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(root().join("infra/k8s")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for d in serde_yaml::Deserializer::from_str(&text) {
            let v = Value::deserialize(d).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let kind = v["kind"].as_str().unwrap_or_default().to_owned();
            docs.push((kind, v));
        }
    }
    docs
}

/// The k8s NATS cluster: the shipped `node.conf` and `users.conf` byte for byte, every password
/// `users.conf` reads from the Secret, routes carrying the route password, the monitoring port
/// open to KEDA's namespace only.
fn nats_runs_from_the_shipped_files(named: &dyn Fn(&str, &str) -> Option<Value>) {
    let config = named("ConfigMap", "nats-config").expect("nats-config");
    for file in ["node.conf", "users.conf"] {
        let shipped = std::fs::read_to_string(root().join("infra/nats").join(file)).unwrap();
        assert_eq!(
            config["data"][file].as_str(),
            Some(shipped.as_str()),
            "{file} differs"
        );
    }
    let set = named("StatefulSet", "nats").expect("a NATS StatefulSet");
    assert_eq!(set["spec"]["replicas"], 3);
    let c = &set["spec"]["template"]["spec"]["containers"][0];
    let env = format!("{:?}", c["env"]);
    let users = config["data"]["users.conf"].as_str().unwrap();
    for var in users.split("password: $").skip(1) {
        let var = var.split([',', '}']).next().unwrap();
        assert!(env.contains(var), "{var} not given to NATS");
    }
    assert!(env.contains("route:$(NATS_ROUTE_PASSWORD)@nats-0"), "{env}");
    let policy = named("NetworkPolicy", "nats").expect("a NetworkPolicy for NATS");
    let monitor = policy["spec"]["ingress"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|r| r["ports"][0]["port"] == 8222)
        .expect("a rule for the monitoring port");
    let keda = &monitor["from"][0]["namespaceSelector"]["matchLabels"];
    assert_eq!(keda["kubernetes.io/metadata.name"], "keda");
}

/// The longest call each function may be in the middle of when it is told to stop, at the
/// default settings: the LLM (`LLM_TIMEOUT_SECS`), a ComfyUI render (`COMFYUI_MAX_SECS`), a
/// photo scene (`SCENE_TIMEOUT_SECS`), a send's lease with a 10 MB upload's allowance.
const LONGEST_CALL_SECS: [(&str, u64); 4] = [
    ("fn-reply", 120),
    ("fn-image", 600),
    ("fn-prompt", 20),
    ("fn-send", 65),
];

#[test]
fn kubernetes_manifests_cover_every_function_with_probes_budgets_and_scalers() {
    let docs = k8s_documents();
    let named = |kind: &str, name: &str| {
        docs.iter()
            .find(|(k, d)| k == kind && d["metadata"]["name"] == name)
            .map(|(_, d)| d.clone())
    };
    let known = documented();
    let nats_conf = std::fs::read_to_string(root().join("infra/nats/users.conf")).unwrap();
    let nats_users: BTreeSet<&str> = nats_conf
        .split("user: ")
        .skip(1)
        .filter_map(|rest| rest.split(',').next())
        .collect();
    let config = named("ConfigMap", "companion-config").expect("config");
    for key in config["data"].as_mapping().unwrap().keys() {
        assert!(
            known.contains(key.as_str().unwrap()),
            "{key:?} is not documented"
        );
    }
    for f in runtime::nats::topology::FUNCTIONS {
        let d = named("Deployment", f).unwrap_or_else(|| panic!("{f}: no Deployment"));
        // SIGTERM drains in-flight work: the pod must be given the longest call it may be in.
        let grace = d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            .as_u64()
            .unwrap_or(30);
        let longest = LONGEST_CALL_SECS
            .iter()
            .find(|(name, _)| *name == f)
            .map_or(0, |(_, s)| *s);
        assert!(
            grace >= longest + 10,
            "{f}: terminationGracePeriodSeconds {grace} < its longest call {longest} s + 10"
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
            nats_conf.contains(&format!("password: ${key}")),
            "{f}: {key} unused"
        );
        for e in env {
            let name = e["name"].as_str().unwrap();
            assert!(
                known.contains(name),
                "{f} sets {name}, which the README does not document"
            );
        }
        assert!(
            named("PodDisruptionBudget", f).is_some(),
            "{f}: no PodDisruptionBudget"
        );
    }
    for stage in runtime::nats::topology::STAGES {
        let s = named("ScaledObject", stage.name)
            .unwrap_or_else(|| panic!("{}: no ScaledObject", stage.name));
        let t = &s["spec"]["triggers"][0];
        assert_eq!(t["type"], "nats-jetstream");
        assert_eq!(
            t["metadata"]["consumer"], stage.name,
            "scales on its own consumer"
        );
        assert_eq!(t["metadata"]["stream"], stage.stream);
    }
    nats_runs_from_the_shipped_files(&named);
    let job = named("Job", "migrate").expect("a migrate Job");
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
    let kustomization = yaml("infra/k8s/kustomization.yaml");
    let listed: BTreeSet<&str> = kustomization["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for entry in std::fs::read_dir(root().join("infra/k8s")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            file == "kustomization.yaml" || listed.contains(file.as_str()),
            "{file} not listed"
        );
    }
}
