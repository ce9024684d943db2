//! How a function reaches NATS: the server list (`NATS_URL`, comma-separated for a cluster),
//! its own user (`NATS_USER` / `NATS_PASSWORD`, each function its own with the least
//! permissions it needs — see `infra/nats/`), whether it declares the topology or only checks
//! that `migrate` did (`NATS_DECLARE_TOPOLOGY`), how many replicas the streams and buckets get
//! (`NATS_REPLICAS`), and the job status lifetime. A user's replies arrive under its own inbox
//! prefix (`_INBOX_<user>`), the only inbox its permissions let it subscribe to, so no function
//! reads another's replies (JetStream delivers pulled messages there). Connection events —
//! a permission the server refused above all — are logged, so a denied publish is never silent.

use std::time::Duration;

use async_nats::{ConnectOptions, Event, ServerAddr};

use crate::config::{Env, Secret};
use crate::nats::topology::{TopologyError, connect_error};

/// NATS settings shared by every function.
#[derive(Debug, Clone)]
pub struct NatsSettings {
    /// Server URLs (one, or a cluster's).
    pub servers: Vec<String>,
    /// The function's NATS user (empty: no authentication).
    pub user: String,
    /// Its password.
    pub password: Secret,
    /// Replicas of the streams and KV buckets when declared (1 to 5).
    pub replicas: usize,
    /// Whether this function creates and updates the streams and buckets (dev, no
    /// authentication) or only checks that `migrate`, as the admin user, declared them.
    pub declare: bool,
    /// How long a function that does not declare the topology waits for it at start.
    pub topology_wait: Duration,
    /// Lifetime of job status entries in the KV bucket.
    pub job_ttl: Duration,
}

impl NatsSettings {
    /// Reads `NATS_URL`, `NATS_USER`, `NATS_PASSWORD`, `NATS_REPLICAS`,
    /// `NATS_DECLARE_TOPOLOGY` (default: declare only without a user),
    /// `NATS_TOPOLOGY_WAIT_SECS`, `JOB_TTL_SECS`.
    pub fn read(env: &mut Env) -> Self {
        let urls = env.string("NATS_URL", "nats://127.0.0.1:4222");
        let servers: Vec<String> = urls
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        for s in &servers {
            if let Err(e) = s.parse::<ServerAddr>() {
                env.problem(format!("NATS_URL entry {:?} is not valid: {e}", redact(s)));
            } else if s.contains('@') {
                env.problem("NATS_URL must not hold credentials: use NATS_USER and NATS_PASSWORD");
            }
        }
        let user = env.string("NATS_USER", "");
        let password = env.optional_secret("NATS_PASSWORD");
        if user.is_empty() != password.is_empty() {
            env.problem("NATS_USER and NATS_PASSWORD go together: set both or neither");
        }
        if !user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            env.problem(format!(
                "NATS_USER {user:?} may hold only letters, digits, `-` and `_` (it names the \
                 user's inbox subject)"
            ));
        }
        let declare = match env.string("NATS_DECLARE_TOPOLOGY", "").as_str() {
            "" => user.is_empty(),
            "1" | "true" => true,
            "0" | "false" => false,
            other => {
                env.problem(format!("NATS_DECLARE_TOPOLOGY={other:?} must be 1 or 0"));
                false
            }
        };
        let replicas = env.parse("NATS_REPLICAS", 1usize);
        if !(1..=5).contains(&replicas) {
            env.problem(format!("NATS_REPLICAS must be 1 to 5, got {replicas}"));
        }
        Self {
            servers,
            user,
            password,
            replicas: replicas.clamp(1, 5),
            declare,
            topology_wait: env.seconds("NATS_TOPOLOGY_WAIT_SECS", 60, 0),
            job_ttl: env.seconds("JOB_TTL_SECS", 3600, 1),
        }
    }

    /// The servers for messages: no user information.
    pub fn shown(&self) -> String {
        self.servers
            .iter()
            .map(|s| redact(s))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The subject prefix of this connection's inboxes.
    pub fn inbox_prefix(&self) -> String {
        inbox_prefix(&self.user)
    }

    /// Connects as `name` (shown in server monitoring), retrying the first connection.
    pub async fn connect(&self, name: &str) -> Result<async_nats::Client, TopologyError> {
        let mut options = ConnectOptions::new()
            .name(name)
            .custom_inbox_prefix(self.inbox_prefix())
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .event_callback(|event| async move { log_event(event) });
        if !self.user.is_empty() {
            options =
                options.user_and_password(self.user.clone(), self.password.expose().to_owned());
        }
        options
            .connect(self.servers.clone())
            .await
            .map_err(|e| connect_error(&self.shown(), e.into()))
    }
}

/// The inbox prefix of NATS user `user`: `_INBOX_<user>` (`infra/nats/users.conf` lets each
/// user subscribe to `_INBOX_<user>.>` only), the standard `_INBOX` without a user.
pub fn inbox_prefix(user: &str) -> String {
    if user.is_empty() {
        "_INBOX".to_owned()
    } else {
        format!("_INBOX_{user}")
    }
}

fn log_event(event: Event) {
    match event {
        Event::ServerError(e) => tracing::error!(error = %e, "NATS server refused something"),
        Event::ClientError(e) => tracing::warn!(error = %e, "NATS client error"),
        Event::Disconnected => tracing::warn!("NATS connection lost; reconnecting"),
        Event::Connected => tracing::info!("NATS connected"),
        other => tracing::debug!(event = %other, "NATS event"),
    }
}

/// `url` without user information.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&'static str, &'static str)]) -> Result<NatsSettings, String> {
        let map: std::collections::HashMap<_, _> = pairs.iter().cloned().collect();
        let mut env = Env::from_fn(move |k| map.get(k).map(|v| v.to_string()));
        let s = NatsSettings::read(&mut env);
        env.finish().map(|_| s).map_err(|e| e.to_string())
    }

    #[test]
    fn a_cluster_list_users_and_replicas_are_read_and_checked() {
        let s = read(&[
            ("NATS_URL", "nats://a:4222, nats://b:4222,"),
            ("NATS_USER", "fn-image"),
            ("NATS_PASSWORD", "pw"),
            ("NATS_REPLICAS", "3"),
        ])
        .unwrap();
        assert_eq!(s.servers, ["nats://a:4222", "nats://b:4222"]);
        assert_eq!((s.user.as_str(), s.replicas), ("fn-image", 3));
        assert_eq!(s.inbox_prefix(), "_INBOX_fn-image");
        assert!(
            !s.declare,
            "a function with its own user only checks the topology"
        );
        let dev = read(&[]).unwrap();
        assert!(dev.declare && dev.inbox_prefix() == "_INBOX");
        let forced = read(&[
            ("NATS_USER", "fn-image"),
            ("NATS_PASSWORD", "pw"),
            ("NATS_DECLARE_TOPOLOGY", "1"),
        ]);
        assert!(forced.unwrap().declare);
        let e = read(&[
            ("NATS_USER", "fn.x>"),
            ("NATS_PASSWORD", "pw"),
            ("NATS_DECLARE_TOPOLOGY", "yes"),
        ])
        .unwrap_err();
        assert!(
            e.contains("only letters") && e.contains("must be 1 or 0"),
            "{e}"
        );
        let e = read(&[
            ("NATS_URL", "nats://u:hunter2@a:4222"),
            ("NATS_USER", "x"),
            ("NATS_REPLICAS", "7"),
        ])
        .unwrap_err();
        assert!(e.contains("must not hold credentials"), "{e}");
        assert!(e.contains("go together") && e.contains("1 to 5"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert_eq!(redact("nats://u:p@h:1"), "nats://***@h:1");
    }
}
