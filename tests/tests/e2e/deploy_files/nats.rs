//! The NATS cluster as Kubernetes and compose run it: in `infra/k8s/nats.yaml` a three-pod
//! StatefulSet with JetStream on its volume claims, node.conf from the ConfigMap and users.conf
//! from the Secret (the shipped files byte for byte, mounted side by side), every password
//! users.conf reads, each pod named as its server and reachable under the headless Service —
//! the routes' addresses and where KEDA's scaler finds a consumer's leader — the client Service
//! the functions use, the monitoring port open to KEDA only; both run the same pinned nats
//! image, one the project can use.

use standins::harness::root;

use super::{k8s_documents, named, yaml};

/// The oldest nats-server with what the project uses (message schedules, per-key TTLs).
const NATS_MIN: (u32, u32) = (2, 12);

fn shipped(file: &str) -> String {
    std::fs::read_to_string(root().join("infra/nats").join(file)).unwrap()
}

#[test]
fn kubernetes_runs_a_three_node_cluster_from_the_shipped_files() {
    let docs = k8s_documents();
    let named = |kind: &str, name: &str| named(&docs, kind, name);
    let config = named("ConfigMap", "nats-config").expect("nats-config");
    assert_eq!(
        config["data"]["node.conf"].as_str(),
        Some(&*shipped("node.conf"))
    );
    let users = named("Secret", "nats-users").expect("the Secret nats-users");
    let users_conf = users["stringData"]["users.conf"].as_str();
    assert_eq!(
        users_conf,
        Some(&*shipped("users.conf")),
        "users.conf differs"
    );

    let set = named("StatefulSet", "nats").expect("a NATS StatefulSet");
    assert_eq!(set["spec"]["replicas"], 3);
    let pod = &set["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["args"][1], "/etc/nats/node.conf");
    let config_volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "config")
        .expect("a config volume");
    let sources = format!("{:?}", config_volume["projected"]["sources"]);
    assert!(sources.contains("nats-config") && sources.contains("nats-users"));
    let mounts = format!("{:?}", c["volumeMounts"]);
    assert!(
        mounts.contains("/etc/nats") && mounts.contains("/data"),
        "{mounts}"
    );
    let claim = &set["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["metadata"]["name"], "data", "JetStream's file store");

    let env = c["env"].as_sequence().unwrap();
    let var = |name: &str| env.iter().find(|e| e["name"] == name).cloned();
    assert_eq!(var("NATS_STORE_DIR").unwrap()["value"], "/data");
    let server_name = var("NATS_SERVER_NAME").expect("NATS_SERVER_NAME");
    assert_eq!(
        server_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name",
        "each server is named as its pod"
    );
    for password in shipped("users.conf").split("password: $").skip(1) {
        let password = password.split([',', '}']).next().unwrap();
        assert!(var(password).is_some(), "{password} not given to NATS");
    }

    // Routes and KEDA reach each pod as <pod>.<headless Service>.
    let headless_name = set["spec"]["serviceName"].as_str().unwrap();
    let headless = named("Service", headless_name).expect("the StatefulSet's Service");
    assert_eq!(headless["spec"]["clusterIP"], "None", "a headless Service");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    let ports = format!("{:?}", headless["spec"]["ports"]);
    assert!(ports.contains("6222") && ports.contains("8222"), "{ports}");
    for i in 0..3 {
        let route = var(&format!("NATS_ROUTE_{}", i + 1)).unwrap();
        let wanted = format!("route:$(NATS_ROUTE_PASSWORD)@nats-{i}.{headless_name}:6222");
        assert!(
            route["value"].as_str().unwrap().ends_with(&wanted),
            "{route:?}"
        );
    }
    let endpoint = format!("{headless_name}.companion.svc.cluster.local:8222");
    for (_, kind, doc) in &docs {
        if kind == "ScaledObject" {
            let trigger = &doc["spec"]["triggers"][0]["metadata"];
            assert_eq!(trigger["natsServerMonitoringEndpoint"], endpoint.as_str());
        }
    }
    let client = named("Service", "nats").expect("the client Service");
    assert_eq!(client["spec"]["ports"][0]["port"], 4222);
    let functions = named("ConfigMap", "companion-config").unwrap();
    assert_eq!(
        functions["data"]["NATS_URL"],
        "nats://nats.companion.svc.cluster.local:4222"
    );

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

/// (major, minor) of a nats image pinned to a full version, e.g. `…/nats:2.14.5-alpine`.
fn nats_version(image: &str) -> Option<(u32, u32)> {
    let tag = image.rsplit_once(':')?.1;
    let mut parts = tag.split(['.', '-']).map(|p| p.parse::<u32>().ok());
    let (major, minor, _patch) = (parts.next()??, parts.next()??, parts.next()??);
    Some((major, minor))
}

#[test]
fn compose_and_kubernetes_run_the_same_recent_nats() {
    assert_eq!(
        nats_version("docker.io/library/nats:2.12.1-alpine"),
        Some((2, 12))
    );
    assert_eq!(nats_version("docker.io/library/nats:2-alpine"), None);
    let docs = k8s_documents();
    let set = named(&docs, "StatefulSet", "nats").unwrap();
    let k8s = set["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap();
    let version = nats_version(k8s).unwrap_or_else(|| panic!("{k8s}: pin a full version"));
    assert!(version >= NATS_MIN, "{k8s}: older than the project needs");
    let compose = yaml("infra/compose.yaml");
    for node in ["nats-1", "nats-2", "nats-3"] {
        assert_eq!(
            compose["services"][node]["image"].as_str(),
            Some(k8s),
            "{node}"
        );
    }
}
