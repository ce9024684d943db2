//! Start-up refusals: every configuration problem listed at once and once only (secrets never
//! echoed, no colour codes off a terminal), a database whose schema is behind refused with the
//! way out, an unknown `ADMIN_TZ` by name, a missing NATS topology with the step that declares it.

use standins::harness::{NatsServer, TestDb, root};

fn run(bin: &str, envs: &[(&str, &str)]) -> (i32, String) {
    let out = std::process::Command::new(standins::harness::bin_dir().join(bin))
        .env_clear()
        .envs(envs.iter().copied())
        .output()
        .expect("binary runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), said)
}

/// The lines of `said` that report the failure (the message, however it is framed).
fn reports(said: &str, needle: &str) -> usize {
    said.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn bad_configuration_lists_every_problem_and_never_a_secret() {
    let (code, err) = run(
        "fn-reply",
        &[
            ("BOT_TOKEN", "42:SECRETSECRET"),
            ("ACK_WAIT_SECS", "soon"),
            ("RUNNER", "lambda?"),
        ],
    );
    assert_eq!(code, 2, "{err}");
    for needle in ["DATABASE_URL", "ACK_WAIT_SECS", "RUNNER", "VENICE_API_KEY"] {
        assert!(err.contains(needle), "{needle} missing in: {err}");
    }
    assert!(!err.contains("SECRETSECRET"));
    assert_eq!(reports(&err, "ACK_WAIT_SECS"), 1, "said once: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "no colour codes when not on a terminal: {err}"
    );
    let (code, err) = run("fn-ingress", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("TELEGRAM_WEBHOOK_SECRET"), "{err}");
}

#[tokio::test]
async fn a_function_refuses_a_schema_that_is_behind() {
    let db = TestDb::create().await.unwrap();
    let nats = NatsServer::start().unwrap();
    let (code, err) = run(
        "fn-updates",
        &[
            ("DATABASE_URL", db.url.as_str()),
            ("NATS_URL", nats.url.as_str()),
            ("BOT_TOKEN", "1:x"),
            (
                "PERSONAS_DIR",
                &root().join("personas").display().to_string(),
            ),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("make migrate"), "{err}");
}

#[tokio::test]
async fn an_unknown_admin_time_zone_is_refused_by_name() {
    let db = TestDb::create().await.unwrap();
    standins::harness::migrate(&db.url).unwrap();
    let nats = NatsServer::start().unwrap();
    let (code, err) = run(
        "fn-admin",
        &[
            ("DATABASE_URL", db.url.as_str()),
            ("NATS_URL", nats.url.as_str()),
            ("ADMIN_TZ", "Mars/Olympus_Mons"),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ADMIN_TZ=\"Mars/Olympus_Mons\": PostgreSQL does not know this time zone"),
        "{err}"
    );
}

#[tokio::test]
async fn a_function_that_may_not_declare_the_topology_waits_for_migrate_then_says_so() {
    let db = TestDb::create().await.unwrap();
    standins::harness::migrate(&db.url).unwrap();
    let nats = NatsServer::start().unwrap();
    let envs = [
        ("DATABASE_URL", db.url.as_str()),
        ("NATS_URL", nats.url.as_str()),
        ("NATS_DECLARE_TOPOLOGY", "0"),
        ("NATS_TOPOLOGY_WAIT_SECS", "1"),
    ];
    let (code, err) = run("fn-admin", &envs);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("stream UPDATES") && err.contains("run `migrate`"),
        "{err}"
    );
    // Once migrate has declared it (NATS_URL set), the same function finds it and runs on.
    let nats_env = nats.admin_env();
    standins::harness::migrate_with(&db.url, &nats_env).unwrap();
    let js = async_nats::jetstream::new(nats.client().await.unwrap());
    for bucket in ["job_status", "ingress_state", "invoke_ids"] {
        js.get_key_value(bucket).await.unwrap();
    }
    let mut found = std::process::Command::new(standins::harness::bin_dir().join("fn-admin"))
        .env_clear()
        .envs(envs)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(found.try_wait().unwrap().is_none(), "it started");
    found.kill().unwrap();
    found.wait().unwrap();
}
