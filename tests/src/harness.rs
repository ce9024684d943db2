//! Test harness: a modern nats-server (one, or a three-node cluster: [`crate::nats`]), a fresh
//! PostgreSQL database per run (dropped afterwards), and the function binaries as separate
//! OS processes whose logs go to files under `target/e2e-logs/`.
//! The places on this machine (root, binaries, a free port) come from [`crate::host`].

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

// What the tests import from here: the places on this machine and the broker.
pub use crate::host::{bin_dir, free_port, root};
pub use crate::nats::{NatsServer, nats_server_bin};

/// Waits until `check` returns `Some`, polling every 50 ms.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh database on the local PostgreSQL, dropped on drop.
pub struct TestDb {
    admin: String,
    name: String,
    /// URL of the fresh database.
    pub url: String,
}

impl TestDb {
    /// Creates `companion_test_<random>` using `TEST_DATABASE_URL` (an admin connection).
    pub async fn create() -> anyhow::Result<Self> {
        use sqlx::Connection;
        let admin = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into()
        });
        let name = format!(
            "companion_test_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .with_context(|| format!("connecting to {admin}"))?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        let (path, query) = match admin.split_once('?') {
            Some((p, q)) => (p, format!("?{q}")),
            None => (admin.as_str(), String::new()),
        };
        let base = path.rsplit_once('/').map(|(b, _)| b).unwrap_or(path);
        Ok(Self {
            url: format!("{base}/{name}{query}"),
            admin,
            name,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// One function process with its log file.
pub struct Process {
    /// Binary name.
    pub name: String,
    child: Child,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
    /// The container it runs in, when it runs from its image.
    container: Option<String>,
}

impl Process {
    /// Starts `bin_dir()/name` with `envs`, logging to `log`.
    pub fn spawn(name: &str, envs: &[(String, String)], log: PathBuf) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let (mut command, container) = match crate::containers::run_command(name, envs) {
            Some((c, container)) => (c, Some(container)),
            None => {
                let mut c = Command::new(bin_dir().join(name));
                c.envs(envs.iter().map(|(k, v)| (k, v)));
                (c, None)
            }
        };
        // Only a test that plays Lambda sets this; never inherit it from the outer environment.
        if !envs.iter().any(|(k, _)| k == "AWS_LAMBDA_RUNTIME_API") {
            command.env_remove("AWS_LAMBDA_RUNTIME_API");
        }
        let child = command
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {name} from {} (build the workspace first)",
                    bin_dir().display()
                )
            })?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
            container,
        })
    }

    /// The log so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        if let Some(container) = &self.container {
            crate::containers::remove(container);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit; returns whether it exited successfully.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs the `migrate` binary against `url` (the database only).
pub fn migrate(url: &str) -> anyhow::Result<()> {
    migrate_with(url, &[])
}

/// Runs the `migrate` binary against `url` with more environment (`NATS_URL`, … to declare
/// the NATS topology too).
pub fn migrate_with(url: &str, env: &[(String, String)]) -> anyhow::Result<()> {
    let out = Command::new(bin_dir().join("migrate"))
        .env("DATABASE_URL", url)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()?;
    if !out.status.success() {
        bail!(
            "migrate failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
