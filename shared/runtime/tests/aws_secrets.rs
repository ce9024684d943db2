//! Secrets from AWS (cargo feature `aws`) against moto's server, a local stand-in for Secrets
//! Manager, SSM Parameter Store and IAM (`infra/dev/moto.sh` installs it; `make test-features`
//! runs this): values come through aws-config's standard chain (`AWS_ENDPOINT_URL`, region,
//! keys from the environment), a JSON secret gives the key named after the variable, and a
//! missing secret, a missing parameter and denied access are each named in one error.
#![cfg(feature = "aws")]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runtime::secrets::fetch;

/// IAM enforcement starts after this many requests: the set-up below.
const SETUP_ACTIONS: u32 = 8;

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> (Moto, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::env::var("MOTO_SERVER_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join(".tools/moto/bin/moto_server"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", SETUP_ACTIONS.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} ({e}): run infra/dev/moto.sh", bin.display()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Moto(child), format!("http://127.0.0.1:{port}"))
}

fn use_keys(id: &str, secret: &str) {
    // SAFETY: this test binary runs one test on a current-thread runtime; nothing else reads
    // the environment while it is changed.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", id);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", secret);
    }
}

/// The Authorization header of a set-up call to `service` (moto reads the service from its
/// scope and checks no signature before enforcement starts).
fn setup_auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=setup/20261126/eu-west-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    )
}

/// A set-up call to an AWS JSON-1.1 service.
async fn json_call(endpoint: &str, service: &str, target: &str, body: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("authorization", setup_auth(service))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{target}: {}", r.status());
}

/// An IAM query-API call (no signature is checked before enforcement starts).
async fn iam(endpoint: &str, params: &[(&str, &str)]) -> String {
    let auth = setup_auth("iam");
    let mut form = vec![("Version", "2010-05-08")];
    form.extend_from_slice(params);
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/"))
        .header("authorization", auth)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{params:?}: {}", r.status());
    r.text().await.unwrap()
}

fn xml_field(xml: &str, tag: &str) -> String {
    let start = xml.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    xml[start..end].to_owned()
}

/// A user allowed `action` on everything; returns its access key and secret.
async fn user(endpoint: &str, name: &str, action: &str) -> (String, String) {
    iam(endpoint, &[("Action", "CreateUser"), ("UserName", name)]).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    );
    iam(
        endpoint,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", "only"),
            ("PolicyDocument", &policy),
        ],
    )
    .await;
    let xml = iam(
        endpoint,
        &[("Action", "CreateAccessKey"), ("UserName", name)],
    )
    .await;
    (
        xml_field(&xml, "AccessKeyId"),
        xml_field(&xml, "SecretAccessKey"),
    )
}

fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_come_from_secrets_manager_and_ssm_and_every_problem_is_named() {
    let (_moto, endpoint) = start_moto();
    // SAFETY: as in `use_keys`.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_REGION", "eu-west-1");
        std::env::remove_var("AWS_PROFILE");
    }
    use_keys("setup", "setup");
    // The set-up: SETUP_ACTIONS requests, before moto starts checking who asks.
    let secret = r#"{"BOT_TOKEN":"123456:from-secrets-manager","other":"x"}"#;
    json_call(
        &endpoint,
        "secretsmanager",
        "secretsmanager.CreateSecret",
        serde_json::json!({"Name": "prod/companion", "SecretString": secret}),
    )
    .await;
    json_call(
        &endpoint,
        "ssm",
        "AmazonSSM.PutParameter",
        serde_json::json!({
            "Name": "/prod/database-url",
            "Value": "postgres://app:pw@db:5432/companion",
            "Type": "SecureString",
        }),
    )
    .await;
    let admin = user(&endpoint, "companion-admin", "*").await;
    let ssm_only = user(&endpoint, "ssm-only", "ssm:GetParameter").await;

    use_keys(&admin.0, &admin.1);
    let got = fetch(lookup(&[
        ("BOT_TOKEN_SECRET_ID", "prod/companion"),
        ("DATABASE_URL_SSM_PARAMETER", "/prod/database-url"),
    ]))
    .await
    .unwrap();
    assert_eq!(got["BOT_TOKEN"].expose(), "123456:from-secrets-manager");
    assert_eq!(
        got["DATABASE_URL"].expose(),
        "postgres://app:pw@db:5432/companion"
    );
    assert_eq!(format!("{:?}", got["BOT_TOKEN"]), "Secret(***)");

    // Everything wrong at once: each named, no value shown.
    let e = fetch(lookup(&[
        ("BOT_TOKEN_SECRET_ID", "prod/missing"),
        ("VENICE_API_KEY_SSM_PARAMETER", "/prod/missing"),
        ("DATABASE_URL_SSM_PARAMETER", "/prod/database-url"),
    ]))
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("BOT_TOKEN_SECRET_ID: secret \"prod/missing\""),
        "{e}"
    );
    assert!(e.contains("ResourceNotFound"), "{e}");
    assert!(e.contains("VENICE_API_KEY_SSM_PARAMETER"), "{e}");
    assert!(e.contains("ParameterNotFound"), "{e}");
    assert!(!e.contains("DATABASE_URL") && !e.contains("app:pw"), "{e}");

    // A role that may read parameters but not secrets.
    use_keys(&ssm_only.0, &ssm_only.1);
    let e = fetch(lookup(&[
        ("BOT_TOKEN_SECRET_ID", "prod/companion"),
        ("DATABASE_URL_SSM_PARAMETER", "/prod/database-url"),
    ]))
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("BOT_TOKEN_SECRET_ID"), "{e}");
    assert!(e.contains("AccessDenied"), "{e}");
    assert!(!e.contains("from-secrets-manager"), "{e}");
}
