//! The whole system on one machine for tests (and the bench): the three stand-ins in this
//! process, a fresh nats-server and database, and every function as separate processes
//! configured against them.
//!
//! Longer than 300 lines because it is one life: start every part, configure each function
//! against the others, look inside while it runs, stop it; the pieces with a life of their own
//! live apart (`host`, `harness`, `nats`, `settle`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use crate::harness::{NatsServer, Process, TestDb, migrate_with, wait_for};
use crate::host::{free_port, root};
use crate::script::Script;
use crate::telegram::{Call, Telegram};
use crate::{image_api, llm, serve};

/// Every function, in start order (declared once, in the topology).
pub use runtime::nats::topology::FUNCTIONS;
/// Rewrites the functions' NATS and database URLs (e.g. through counting proxies).
pub type Via = dyn Fn(&str, &str) -> anyhow::Result<(String, String)>;

/// The `/invoke` signing secret of HTTP-runner copies.
pub const INVOKE_SECRET: &str = "e2e-invoke-secret-0123456789";
/// The bot token the functions use against the stand-in.
pub const TEST_TOKEN: &str = "123456:TEST-token-never-logged";

/// A running system.
pub struct System {
    /// Telegram stand-in.
    pub tg: Arc<Telegram>,
    /// LLM stand-in script.
    pub llm: Arc<Script>,
    /// Image stand-in script.
    pub image: Arc<Script>,
    /// Webhook URL of fn-ingress.
    pub webhook_url: String,
    /// Its secret.
    pub secret: String,
    /// The broker.
    pub nats: NatsServer,
    /// The database.
    pub db: TestDb,
    procs: Mutex<HashMap<String, Process>>,
    /// Ops ports given out for `OPS_ADDR=auto`, by copy name.
    ops: Mutex<HashMap<String, String>>,
    envs: Vec<(String, String)>,
    log_dir: PathBuf,
    http: reqwest::Client,
    _files: tempfile::TempDir,
}

impl System {
    /// Starts everything; `label` names the log folder; `extra` env overrides the defaults.
    pub async fn start(label: &str, extra: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start_via(label, extra, &|n, d| Ok((n.to_owned(), d.to_owned()))).await
    }

    /// Like [`System::start`], with the functions' NATS and database URLs passed through `via`
    /// (the bench puts counting proxies in between).
    pub async fn start_via(label: &str, extra: &[(&str, &str)], via: &Via) -> anyhow::Result<Self> {
        Self::start_on(label, extra, via, NatsServer::start()?).await
    }

    /// Like [`System::start_via`], on a broker the caller started (a cluster: then every
    /// function connects as its own NATS user).
    pub async fn start_on(
        label: &str,
        extra: &[(&str, &str)],
        via: &Via,
        nats: NatsServer,
    ) -> anyhow::Result<Self> {
        let files = tempfile::tempdir()?;
        let tg = Telegram::new(files.path().to_path_buf(), None);
        tg.expect_token(TEST_TOKEN);
        let tg_addr = serve(tg.router(), "127.0.0.1:0").await?;
        let llm = Arc::new(Script::default());
        let llm_addr = serve(llm::router(llm.clone()), "127.0.0.1:0").await?;
        let image = Arc::new(Script::default());
        let image_addr = serve(image_api::router(image.clone()), "127.0.0.1:0").await?;
        let db = TestDb::create().await?;
        let ingress_addr = format!("127.0.0.1:{}", free_port());
        let secret = "e2e_secret-123".to_owned();
        let (nats_url, db_url) = via(&nats.url, &db.url)?;
        let mut envs: Vec<(String, String)> = [
            ("NATS_URL", nats_url),
            ("DATABASE_URL", db_url),
            ("BOT_TOKEN", TEST_TOKEN.to_owned()),
            ("TELEGRAM_API_URL", format!("http://{tg_addr}")),
            ("TELEGRAM_WEBHOOK_SECRET", secret.clone()),
            ("INGRESS_ADDR", ingress_addr.clone()),
            ("VENICE_API_BASE_URL", format!("http://{llm_addr}/api/v1")),
            ("VENICE_API_KEY", "test-key".to_owned()),
            // The stand-in reads requests as Venice does, at a URL that is not Venice's.
            ("LLM_FLAVOR", "venice".to_owned()),
            ("IMAGE_API_URL", format!("http://{image_addr}")),
            // Used when a test picks IMAGE_API_KIND=venice: the image stand-in speaks it.
            (
                "VENICE_IMAGE_BASE_URL",
                format!("http://{image_addr}/api/v1"),
            ),
            (
                "PERSONAS_DIR",
                root().join("personas").display().to_string(),
            ),
            ("ACK_WAIT_SECS", "2".to_owned()),
            ("SWEEP_INTERVAL_SECS", "1".to_owned()),
            ("SWEEP_GRACE_SECS", "2".to_owned()),
            ("INVOKE_SECRET", INVOKE_SECRET.to_owned()),
            // Scripted users type far faster than people; the rate limit has its own test.
            ("MESSAGES_PER_MINUTE", "100000".to_owned()),
            // Memory extraction is an LLM call of its own every few turns: off unless a test
            // turns it on (`MEMORY_EVERY`), so other tests' LLM calls and scripts stay theirs.
            ("MEMORY_EVERY", "0".to_owned()),
            // Two tests at a time, each a whole system (some with extra copies), share the
            // server's 100 connections: one warm connection per pool, not two.
            ("DATABASE_WARM_CONNECTIONS", "1".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            envs.retain(|(key, _)| key != k);
            envs.push((k.to_string(), v.to_string()));
        }
        // As in a deployment: migrate declares the streams and buckets (as `admin` where the
        // broker has users, whose functions may only look them up) before any function starts.
        let mut migrate_env = nats.admin_env();
        migrate_env.extend(envs.iter().filter(|(k, _)| k == "NATS_REPLICAS").cloned());
        migrate_with(&db.url, &migrate_env)?;
        let log_dir = root().join("target/e2e-logs").join(label);
        let _ = std::fs::remove_dir_all(&log_dir);
        std::fs::create_dir_all(&log_dir)?;
        let sys = Self {
            tg,
            llm,
            image,
            webhook_url: format!("http://{ingress_addr}/webhook"),
            secret,
            nats,
            db,
            procs: Mutex::default(),
            ops: Mutex::default(),
            envs,
            log_dir,
            http: reqwest::Client::new(),
            _files: files,
        };
        for name in FUNCTIONS {
            sys.start_fn(name).await?;
        }
        Ok(sys)
    }

    /// Starts (or restarts) one function and waits until it says it is ready.
    pub async fn start_fn(&self, name: &str) -> anyhow::Result<()> {
        self.start_copy(name, name, &[]).await
    }

    /// Where the process known as `name` logs.
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.log_dir.join(format!("{name}.log"))
    }

    /// Spawns a copy of function `bin` known as `name`, with env overrides, without waiting.
    pub fn spawn_copy(&self, bin: &str, name: &str, extra: &[(&str, &str)]) -> anyhow::Result<()> {
        let mut envs = self.envs.clone();
        if self.nats.has_users() {
            envs.push(("NATS_USER".into(), bin.into()));
            envs.push(("NATS_PASSWORD".into(), crate::nats::password(bin)));
        }
        envs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        // `OPS_ADDR=auto`: each copy its own ops port (the bench reads every `/metrics`).
        if let Some(at) = envs
            .iter()
            .rposition(|(k, v)| k == "OPS_ADDR" && v == "auto")
        {
            let addr = format!("127.0.0.1:{}", free_port());
            self.ops
                .lock()
                .unwrap()
                .insert(name.to_owned(), addr.clone());
            envs[at].1 = addr;
        }
        let p = Process::spawn(bin, &envs, self.log_path(name))?;
        self.procs.lock().unwrap().insert(name.to_owned(), p);
        Ok(())
    }

    /// Starts a copy of function `bin` known as `name`, with env overrides, and waits for it.
    pub async fn start_copy(
        &self,
        bin: &str,
        name: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        let log = self.log_path(name);
        let before = std::fs::read_to_string(&log)
            .map(|s| s.matches("ready").count())
            .unwrap_or(0);
        self.spawn_copy(bin, name, extra)?;
        let r = wait_for(
            &format!("{name} to be ready"),
            Duration::from_secs(20),
            || {
                let log = log.clone();
                async move {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    (text.matches("ready").count() > before).then_some(())
                }
            },
        )
        .await;
        r.with_context(|| format!("{name} log:\n{}", self.log(name)))
    }

    /// The ops port of copy `name`, when the system was started with `OPS_ADDR=auto`.
    pub fn ops_addr(&self, name: &str) -> Option<String> {
        self.ops.lock().unwrap().get(name).cloned()
    }

    /// The process id of a running function.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.procs.lock().unwrap().get(name).map(Process::pid)
    }

    /// Stops a copy started with [`System::start_copy`] and forgets it.
    pub fn stop_copy(&self, name: &str) {
        self.procs.lock().unwrap().remove(name);
    }

    /// A function's log.
    pub fn log(&self, name: &str) -> String {
        self.procs
            .lock()
            .unwrap()
            .get(name)
            .map(Process::output)
            .unwrap_or_default()
    }

    /// Every function's log, for failure messages.
    pub fn all_logs(&self) -> String {
        FUNCTIONS
            .iter()
            .map(|n| format!("===== {n}\n{}", self.log(n)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Runs `f` on a function's process (kill it, signal it, look at it).
    pub fn with_process<T>(&self, name: &str, f: impl FnOnce(&mut Process) -> T) -> T {
        f(self
            .procs
            .lock()
            .unwrap()
            .get_mut(name)
            .expect("known function"))
    }

    /// POSTs an update to the webhook with the right secret; returns the status.
    pub async fn post_update(&self, update: &Value) -> u16 {
        self.post_raw(
            serde_json::to_vec(update).expect("json"),
            Some(&self.secret),
        )
        .await
    }

    /// POSTs any body with any secret; returns the status.
    pub async fn post_raw(&self, body: Vec<u8>, secret: Option<&str>) -> u16 {
        if let Ok(update) = serde_json::from_slice::<Value>(&body) {
            self.tg.saw_update(&update);
        }
        let mut req = self
            .http
            .post(&self.webhook_url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            req = req.header("x-telegram-bot-api-secret-token", s);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// A JetStream context on the test broker.
    pub async fn js(&self) -> anyhow::Result<async_nats::jetstream::Context> {
        Ok(async_nats::jetstream::new(self.nats.client().await?))
    }

    /// A pool on the test database.
    pub async fn pool(&self) -> anyhow::Result<sqlx::PgPool> {
        Ok(sqlx::PgPool::connect(&self.db.url).await?)
    }

    /// Waits for a Bot API call matching `pred` at or after log position `since`.
    pub async fn wait_call(
        &self,
        since: usize,
        timeout: Duration,
        pred: impl Fn(&Call) -> bool,
    ) -> anyhow::Result<Call> {
        let tg = self.tg.clone();
        let r = wait_for("a matching Bot API call", timeout, || {
            let found = tg.calls().into_iter().skip(since).find(|c| pred(c));
            async move { found }
        })
        .await;
        r.with_context(|| format!("calls: {:#?}\n{}", self.tg.calls(), self.all_logs()))
    }
}

/// The text of a call's `text` parameter.
pub fn text_of(c: &Call) -> &str {
    c.params["text"].as_str().unwrap_or("")
}

/// The `callback_data` of every inline button of a call.
pub fn buttons_of(c: &Call) -> Vec<String> {
    c.params["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// Whether the call puts its text on the user's screen: a new message, or an edit (a streamed
/// answer's final text arrives as an edit of its draft).
pub fn shows_text(c: &Call) -> bool {
    matches!(c.method.as_str(), "sendmessage" | "editmessagetext")
}

/// The labels of the inline buttons under a message, row by row.
pub fn labels_of(c: &Call) -> Vec<String> {
    c.params["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .filter_map(|b| b["text"].as_str().map(str::to_owned))
        .collect()
}
