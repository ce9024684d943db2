//! The AWS side of [`crate::secrets`] (cargo feature `aws`): one aws-config load (standard
//! region and credential chain, `AWS_ENDPOINT_URL` honoured), then every secret fetched at once
//! from Secrets Manager or SSM Parameter Store, each failure named in the start-up error.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

use crate::config::Secret;
use crate::secrets::{Source, pick};

/// How long one fetch may take (retries included) before start-up reports it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

/// Fetches `wanted`; problems go into `problems`.
pub async fn fetch(
    wanted: &[(String, Source)],
    problems: &mut Vec<String>,
) -> HashMap<String, Secret> {
    // rustls finds both ring (ours) and aws-lc-rs (the AWS client's) compiled in: choose.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(FETCH_TIMEOUT)
        .build();
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    if conf.region().is_none() {
        problems.push(
            "secrets from AWS need a region: set AWS_REGION (or a profile with one)".to_owned(),
        );
        return HashMap::new();
    }
    let manager = aws_sdk_secretsmanager::Client::new(&conf);
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let fetches = wanted.iter().map(|(name, source)| {
        let (manager, ssm) = (&manager, &ssm);
        async move {
            let got = match source {
                Source::SecretsManager(id) => manager
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
                    .and_then(|out| {
                        out.secret_string()
                            .map(|s| pick(name, s))
                            .ok_or_else(|| "it holds no text (binary secrets are not read)".into())
                    }),
                Source::Ssm(parameter) => ssm
                    .get_parameter()
                    .name(parameter)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_ssm::error::DisplayErrorContext(e).to_string())
                    .and_then(|out| {
                        out.parameter()
                            .and_then(|p| p.value())
                            .map(str::to_owned)
                            .ok_or_else(|| "it has no value".into())
                    }),
            };
            (name, source, got)
        }
    });
    let mut values = HashMap::new();
    for (name, source, got) in futures::future::join_all(fetches).await {
        let what = match source {
            Source::SecretsManager(id) => format!("{name}_SECRET_ID: secret {id:?}"),
            Source::Ssm(p) => format!("{name}_SSM_PARAMETER: parameter {p:?}"),
        };
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
