//! The AWS side of [`crate::secrets`] (cargo feature `aws`): aws-config loads the region,
//! endpoint (`AWS_ENDPOINT_URL`, or `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `_SSM`) and
//! credentials through its standard chain; the two reads (`GetSecretValue`, `GetParameter`)
//! are single SigV4-signed JSON calls made with our own HTTP client: the generated SDK crates
//! for two calls (with SSO and a second crypto library) made a function 28 MB instead of 19,
//! too big for its image. All are fetched at once, each failure named in the start-up error.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use serde_json::{Value, json};

use crate::config::Secret;
use crate::secrets::{Source, pick};

/// How long loading credentials, and each read, may take before start-up reports it.
const TIMEOUT: Duration = Duration::from_secs(15);

/// One AWS JSON-1.1 service call.
struct Call {
    /// Signing name and endpoint prefix (`secretsmanager`, `ssm`).
    service: &'static str,
    /// `AWS_ENDPOINT_URL_<this>` overrides the endpoint for this service.
    endpoint_var: &'static str,
    /// `X-Amz-Target`.
    target: &'static str,
    body: Value,
}

/// Fetches `wanted`; problems go into `problems`.
pub async fn fetch(
    wanted: &[(String, Source)],
    problems: &mut Vec<String>,
) -> HashMap<String, Secret> {
    // Ring for every TLS connection in the process, as reqwest's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .http_client(client)
        .load()
        .await;
    let Some(region) = conf.region().map(|r| r.to_string()) else {
        problems
            .push("secrets from AWS need a region: set AWS_REGION (or a profile with one)".into());
        return HashMap::new();
    };
    let credentials = match conf.credentials_provider() {
        Some(p) => tokio::time::timeout(TIMEOUT, p.provide_credentials()).await,
        None => {
            problems.push("secrets from AWS: no credentials provider is configured".into());
            return HashMap::new();
        }
    };
    let credentials = match credentials {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            problems.push(format!("secrets from AWS: no credentials: {e}"));
            return HashMap::new();
        }
        Err(_) => {
            problems.push("secrets from AWS: no credentials within 15 s".into());
            return HashMap::new();
        }
    };
    let http = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(h) => h,
        Err(e) => {
            problems.push(format!("secrets from AWS: HTTP client: {e}"));
            return HashMap::new();
        }
    };
    let global = conf.endpoint_url().map(str::to_owned);
    let fetches = wanted.iter().map(|(name, source)| {
        let (http, credentials, region, global) = (&http, &credentials, &region, &global);
        async move {
            let (call, what) = request(name, source);
            let got = send(http, credentials, region, global.as_deref(), call)
                .await
                .and_then(|answer| value(name, source, &answer));
            (name, what, got)
        }
    });
    let mut values = HashMap::new();
    for (name, what, got) in futures::future::join_all(fetches).await {
        match got {
            Ok(v) if !v.trim().is_empty() => {
                values.insert(name.clone(), Secret::new(v));
            }
            Ok(_) => problems.push(format!("{what} is empty")),
            Err(e) => problems.push(format!("{what} could not be read: {e}")),
        }
    }
    values
}

fn request(name: &str, source: &Source) -> (Call, String) {
    match source {
        Source::SecretsManager(id) => (
            Call {
                service: "secretsmanager",
                endpoint_var: "SECRETS_MANAGER",
                target: "secretsmanager.GetSecretValue",
                body: json!({"SecretId": id}),
            },
            format!("{name}_SECRET_ID: secret {id:?}"),
        ),
        Source::Ssm(parameter) => (
            Call {
                service: "ssm",
                endpoint_var: "SSM",
                target: "AmazonSSM.GetParameter",
                body: json!({"Name": parameter, "WithDecryption": true}),
            },
            format!("{name}_SSM_PARAMETER: parameter {parameter:?}"),
        ),
    }
}

/// The value in a successful answer.
fn value(name: &str, source: &Source, answer: &Value) -> Result<String, String> {
    match source {
        Source::SecretsManager(_) => answer["SecretString"]
            .as_str()
            .map(|s| pick(name, s))
            .ok_or_else(|| "it holds no text (binary secrets are not read)".into()),
        Source::Ssm(_) => answer["Parameter"]["Value"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "it has no value".into()),
    }
}

async fn send(
    http: &reqwest::Client,
    credentials: &Credentials,
    region: &str,
    global: Option<&str>,
    call: Call,
) -> Result<Value, String> {
    let base = std::env::var(format!("AWS_ENDPOINT_URL_{}", call.endpoint_var))
        .ok()
        .filter(|v| !v.is_empty())
        .or(global.map(str::to_owned))
        .unwrap_or_else(|| format!("https://{}.{region}.amazonaws.com", call.service));
    let url = format!("{}/", base.trim_end_matches('/'));
    let body = serde_json::to_vec(&call.body).map_err(|e| e.to_string())?;
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", call.target),
    ];
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(call.service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing: {e}"))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| format!("signing: {e}"))?;
    let (signature, _) = sign(signable, &params)
        .map_err(|e| format!("signing: {e}"))?
        .into_parts();
    let mut request = http.post(&url).body(body.clone());
    for (k, v) in headers.iter().copied().chain(signature.headers()) {
        request = request.header(k, v);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let kind = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(answer);
    }
    // AWS JSON errors: `__type` (maybe `namespace#Name`) or the header, and a message; an
    // authorisation failure may come back as XML (`<Code>`, `<Message>`).
    let kind = answer["__type"]
        .as_str()
        .map(str::to_owned)
        .or(kind)
        .or_else(|| xml(&text, "Code"))
        .unwrap_or_default();
    let kind = kind
        .rsplit('#')
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("");
    let message = answer["message"]
        .as_str()
        .or(answer["Message"].as_str())
        .map(str::to_owned)
        .or_else(|| xml(&text, "Message"))
        .unwrap_or_default();
    Err(format!("{kind} (HTTP {}): {message}", status.as_u16()))
}

/// The text of the first `<tag>` element of an XML error body.
fn xml(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim().to_owned())
}
