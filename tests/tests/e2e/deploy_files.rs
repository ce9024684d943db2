//! The deployment files checked against the code and the README: `infra/compose.yaml` runs
//! every function (and NATS, PostgreSQL, a one-shot migrate) with health checks and volumes;
//! `infra/k8s/` has a Deployment with probes and a PodDisruptionBudget per function, a KEDA
//! ScaledObject per stage on its own consumer, a migrate Job, the NATS cluster; both set only
//! variables the README's table documents, run NATS from the shipped `infra/nats/` files, and
//! connect each function as its own user (migrate as `admin`).

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
    for f in runtime::nats::topology::FUNCTIONS {
        assert!(names.contains(f), "{f} has no service");
    }
    for infra in ["nats-1", "nats-2", "nats-3", "postgres", "migrate"] {
        assert!(names.contains(infra), "{infra} missing");
    }
    for node in ["nats-1", "nats-2", "nats-3"] {
        let n = &compose["services"][node];
        assert_eq!(
            n["command"][1], "/etc/nats/node.conf",
            "{node}: the shipped config"
        );
        let mounts = format!("{:?}", n["volumes"]);
        assert!(
            mounts.contains("./nats/users.conf:/etc/nats/users.conf:ro"),
            "{node}"
        );
        let env = &n["environment"];
        assert_eq!(
            env["NATS_MONITOR"], "127.0.0.1:8222",
            "{node}: monitoring on loopback"
        );
        assert!(
            env["NATS_ROUTE_1"]
                .as_str()
                .unwrap()
                .contains("route:${NATS_ROUTE_PASSWORD}@")
        );
        assert!(compose["volumes"][node].is_null(), "{node}: its own volume");
    }
    assert!(compose["volumes"]["postgres"].is_null());
    let migrate = &compose["services"]["migrate"]["environment"];
    assert_eq!(
        migrate["NATS_USER"], "admin",
        "migrate declares the topology"
    );
    let known = documented();
    assert!(
        known.contains("DATABASE_URL") && known.len() > 30,
        "README table read"
    );
    for f in runtime::nats::topology::FUNCTIONS {
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
        assert_eq!(
            env.get("NATS_USER"),
            Some(&Value::from(f)),
            "{f}: its own user"
        );
        let key = format!("NATS_PASSWORD_{}", f.to_uppercase().replace('-', "_"));
        let password = env.get("NATS_PASSWORD").and_then(Value::as_str).unwrap();
        assert!(
            password.starts_with(&format!("${{{key}:?")),
            "{f}: {password}"
        );
    }
    assert_eq!(
        compose["services"]["fn-send"]["environment"]["BOT_TOKEN"], "${BOT_TOKEN:?set BOT_TOKEN}",
        "the token comes from outside, never from the file"
    );
}

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
