//! `infra/compose.yaml` checked against the code and the README: a service per function (and
//! three NATS nodes from the shipped config, given every password users.conf reads,
//! PostgreSQL, a one-shot migrate as `admin`), each function from its image with a health check,
//! after the migration, connected as its own NATS user with the password users.conf gives that
//! user, setting only variables the README documents; fn-bridge only in its profile; the bot
//! token from outside.

use std::collections::BTreeSet;

use runtime::nats::topology::{ALL_FUNCTIONS, BRIDGE};
use serde_yaml::Value;
use standins::harness::root;

use super::{documented, yaml};

#[test]
fn compose_runs_every_function_with_documented_settings() {
    let compose = yaml("infra/compose.yaml");
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    for f in ALL_FUNCTIONS {
        assert!(names.contains(f), "{f} has no service");
    }
    let users = std::fs::read_to_string(root().join("infra/nats/users.conf")).unwrap();
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
        for password in users.split("password: $").skip(1) {
            let password = password.split([',', '}']).next().unwrap();
            assert!(env[password].is_string(), "{node}: {password} not given");
        }
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
    assert_eq!(
        compose["services"][BRIDGE]["profiles"][0], "bridge",
        "fn-bridge starts only when asked for"
    );
    for f in ALL_FUNCTIONS {
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
        assert!(
            users.contains(&format!("{{user: {f}, password: ${key},")),
            "{f}: users.conf gives {f} another password than {key}"
        );
    }
    assert_eq!(
        compose["services"]["fn-send"]["environment"]["BOT_TOKEN"], "${BOT_TOKEN:?set BOT_TOKEN}",
        "the token comes from outside, never from the file"
    );
}
