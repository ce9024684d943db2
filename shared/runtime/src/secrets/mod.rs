//! Secrets from AWS, loaded once at start before any setting is read. Each secret variable
//! ([`NAMES`]) may be given as itself, or as `<NAME>_SECRET_ID` (AWS Secrets Manager: the
//! secret's name or ARN; a JSON secret holding several keys gives the one named `<NAME>`) or
//! `<NAME>_SSM_PARAMETER` (SSM Parameter Store, decrypted). They are fetched through
//! aws-config's standard region and credential chain (`AWS_REGION`, `AWS_ENDPOINT_URL`, keys,
//! web identity, the instance or task role), kept as [`Secret`]s and never logged. Every
//! problem — a secret that is missing, access denied, a name given twice — is listed in one
//! start-up error. Fetching needs the cargo feature `aws` (on in the images); a build without
//! it refuses the `_SECRET_ID` / `_SSM_PARAMETER` variables by name.

#[cfg(feature = "aws")]
mod aws;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::config::{ConfigError, Env, Secret};

impl Default for Env {
    fn default() -> Self {
        Self::from_process()
    }
}

impl Env {
    /// Reads the process environment (and the secrets fetched from AWS at start, which
    /// stand for their variables); empty values count as unset. Defined here, beside the
    /// fetched secrets, so the configuration reader knows nothing of where secrets come from.
    pub fn from_process() -> Self {
        Self::from_fn(|k| fetched(k).or_else(|| std::env::var(k).ok()))
    }
}

/// The variables that may come from AWS.
pub const NAMES: [&str; 7] = [
    "BOT_TOKEN",
    "VENICE_API_KEY",
    "DATABASE_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "INVOKE_SECRET",
    "NATS_PASSWORD",
    "ADMIN_DATABASE_URL",
];

/// Where one variable's value is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// AWS Secrets Manager: secret name or ARN.
    SecretsManager(String),
    /// SSM Parameter Store: parameter name.
    Ssm(String),
}

static FETCHED: OnceLock<HashMap<String, Secret>> = OnceLock::new();

/// A value fetched at start for variable `name`, if it was fetched.
pub fn fetched(name: &str) -> Option<String> {
    FETCHED
        .get()
        .and_then(|m| m.get(name))
        .map(|s| s.expose().to_owned())
}

/// Which variables are to be fetched, or every problem with how they were asked for.
pub fn wanted(lookup: impl Fn(&str) -> Option<String>) -> (Vec<(String, Source)>, Vec<String>) {
    let set = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
    let (mut wanted, mut problems) = (Vec::new(), Vec::new());
    for name in NAMES {
        let id = set(&format!("{name}_SECRET_ID"));
        let parameter = set(&format!("{name}_SSM_PARAMETER"));
        let source = match (id, parameter) {
            (Some(_), Some(_)) => {
                problems.push(format!(
                    "{name}_SECRET_ID and {name}_SSM_PARAMETER are both set: choose one"
                ));
                continue;
            }
            (Some(id), None) => Source::SecretsManager(id.trim().to_owned()),
            (None, Some(p)) => Source::Ssm(p.trim().to_owned()),
            (None, None) => continue,
        };
        if set(name).is_some() {
            problems.push(format!(
                "{name} is set and also asked for from AWS: keep one of them"
            ));
            continue;
        }
        wanted.push((name.to_owned(), source));
    }
    (wanted, problems)
}

/// Fetches what the process environment asks for and keeps it for [`fetched`] (which
/// `Env::from_process` consults first). Call once, before reading settings.
pub async fn load() -> Result<(), ConfigError> {
    let values = fetch(|k| std::env::var(k).ok()).await?;
    let _ = FETCHED.set(values);
    Ok(())
}

/// Fetches what `lookup` asks for: values by variable name, or every problem at once.
pub async fn fetch(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<HashMap<String, Secret>, ConfigError> {
    let (wanted, mut problems) = wanted(lookup);
    if wanted.is_empty() {
        return match problems.is_empty() {
            true => Ok(HashMap::new()),
            false => Err(ConfigError(problems)),
        };
    }
    let values = from_aws(&wanted, &mut problems).await;
    match problems.is_empty() {
        true => Ok(values),
        false => Err(ConfigError(problems)),
    }
}

#[cfg(not(feature = "aws"))]
async fn from_aws(
    wanted: &[(String, Source)],
    problems: &mut Vec<String>,
) -> HashMap<String, Secret> {
    for (name, source) in wanted {
        let via = match source {
            Source::SecretsManager(_) => "SECRET_ID",
            Source::Ssm(_) => "SSM_PARAMETER",
        };
        problems.push(format!(
            "{name}_{via} is set, but this build cannot read AWS (build with the cargo feature `aws`)"
        ));
    }
    HashMap::new()
}

#[cfg(feature = "aws")]
async fn from_aws(
    wanted: &[(String, Source)],
    problems: &mut Vec<String>,
) -> HashMap<String, Secret> {
    crate::secrets::aws::fetch(wanted, problems).await
}

/// The value for `name` in a Secrets Manager secret string: the key `name` of a JSON object,
/// else the whole string.
pub fn pick(name: &str, secret: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(secret) {
        Ok(serde_json::Value::Object(map)) => match map.get(name) {
            Some(serde_json::Value::String(v)) => v.clone(),
            _ => secret.to_owned(),
        },
        _ => secret.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn sources_are_read_and_conflicts_listed() {
        let (w, p) = wanted(lookup(&[
            ("BOT_TOKEN_SECRET_ID", "prod/bot"),
            ("DATABASE_URL_SSM_PARAMETER", "/prod/db"),
            ("VENICE_API_KEY_SECRET_ID", "a"),
            ("VENICE_API_KEY_SSM_PARAMETER", "b"),
            ("INVOKE_SECRET", "plain-value"),
            ("INVOKE_SECRET_SECRET_ID", "c"),
        ]));
        assert_eq!(
            w,
            vec![
                (
                    "BOT_TOKEN".to_owned(),
                    Source::SecretsManager("prod/bot".into())
                ),
                ("DATABASE_URL".to_owned(), Source::Ssm("/prod/db".into())),
            ]
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("VENICE_API_KEY_SECRET_ID and VENICE_API_KEY_SSM_PARAMETER"));
        assert!(p[1].contains("INVOKE_SECRET is set and also"));
        assert!(!p.iter().any(|x| x.contains("plain-value")));
    }

    #[test]
    fn a_json_secret_gives_the_key_named_after_the_variable() {
        assert_eq!(
            pick("BOT_TOKEN", r#"{"BOT_TOKEN":"1:x","other":"y"}"#),
            "1:x"
        );
        assert_eq!(pick("BOT_TOKEN", r#"{"other":"y"}"#), r#"{"other":"y"}"#);
        assert_eq!(pick("BOT_TOKEN", "plain"), "plain");
    }

    #[cfg(not(feature = "aws"))]
    #[tokio::test]
    async fn without_the_feature_asking_for_aws_is_a_clear_error() {
        let e = fetch(lookup(&[("BOT_TOKEN_SECRET_ID", "x")]))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("cargo feature `aws`"), "{e}");
        assert!(fetch(lookup(&[])).await.unwrap().is_empty());
    }
}
