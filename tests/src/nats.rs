//! nats-server for tests: one node on a free port with a temporary store, or a three-node
//! JetStream cluster on loopback ports run from `infra/nats/node.conf` with its per-function
//! users (each function connects as itself; the tests connect as `admin`) and authenticated
//! routes. Nodes are killed on drop and can be stopped and started again on the same ports and
//! stores, one or all.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::host::{free_port, root};

/// The nats-server binary: `NATS_SERVER_BIN`, else the project's `.tools`, else `PATH`.
pub fn nats_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return p.into();
    }
    let local = root().join(".tools/venv/bin/nats-server");
    if local.exists() {
        local
    } else {
        PathBuf::from("nats-server")
    }
}

struct Node {
    child: Mutex<Option<Child>>,
    port: u16,
    store: tempfile::TempDir,
    /// Cluster nodes: the environment `infra/nats/node.conf` reads.
    env: Vec<(String, String)>,
}

/// A broker: one node, or a cluster.
pub struct NatsServer {
    nodes: Vec<Node>,
    /// Every node's client URL, comma-separated (what `NATS_URL` takes).
    pub url: String,
    users: bool,
    /// Write every message to disk before acknowledging it (`sync_interval: always`).
    sync_always: bool,
}

/// The password the cluster gives `user` (a function name, or `admin`).
pub fn password(user: &str) -> String {
    format!("test-{user}-password")
}

/// The user nodes present to each other on their routes.
const ROUTE_USER: &str = "route";

/// The environment variable `infra/nats/users.conf` reads `user`'s password from.
fn password_var(user: &str) -> String {
    format!("NATS_PASSWORD_{}", user.to_uppercase().replace('-', "_"))
}

impl NatsServer {
    /// Starts one node on a free port (`sync_interval: always` when `NATS_SYNC_ALWAYS=1`).
    pub fn start() -> anyhow::Result<Self> {
        let sync_always = std::env::var("NATS_SYNC_ALWAYS").is_ok_and(|v| v == "1");
        let port = free_port();
        let server = Self {
            nodes: vec![Node {
                child: Mutex::new(None),
                port,
                store: tempfile::tempdir()?,
                env: Vec::new(),
            }],
            url: format!("nats://127.0.0.1:{port}"),
            users: false,
            sync_always,
        };
        server.resume()?;
        Ok(server)
    }

    /// Starts a three-node cluster with the functions' users and waits until JetStream
    /// answers.
    pub fn cluster() -> anyhow::Result<Self> {
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut nodes = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let port = free_port();
            let store = tempfile::tempdir()?;
            let mut env = vec![
                ("NATS_SERVER_NAME".to_owned(), format!("n{}", i + 1)),
                ("NATS_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
                (
                    "NATS_MONITOR".to_owned(),
                    format!("127.0.0.1:{}", free_port()),
                ),
                (
                    "NATS_CLUSTER_LISTEN".to_owned(),
                    format!("127.0.0.1:{route}"),
                ),
                (
                    "NATS_STORE_DIR".to_owned(),
                    store.path().display().to_string(),
                ),
            ];
            env.push(("NATS_ROUTE_USER".to_owned(), ROUTE_USER.to_owned()));
            env.push(("NATS_ROUTE_PASSWORD".to_owned(), password(ROUTE_USER)));
            for (j, r) in routes.iter().enumerate() {
                let creds = format!("{ROUTE_USER}:{}", password(ROUTE_USER));
                env.push((
                    format!("NATS_ROUTE_{}", j + 1),
                    format!("nats-route://{creds}@127.0.0.1:{r}"),
                ));
            }
            for user in runtime::nats::topology::ALL_FUNCTIONS
                .iter()
                .chain(&["admin"])
            {
                env.push((password_var(user), password(user)));
            }
            nodes.push(Node {
                child: Mutex::new(None),
                port,
                store,
                env,
            });
        }
        let url = nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",");
        let server = Self {
            nodes,
            url,
            users: true,
            sync_always: true,
        };
        server.resume()?;
        Ok(server)
    }

    /// What `nats-server -t` (test the configuration and exit) says of `infra/nats/node.conf`
    /// with node 0's environment: `Ok` with its output when it accepts it.
    pub fn check_config(&self) -> anyhow::Result<String> {
        let out = Command::new(nats_server_bin())
            .arg("-t")
            .arg("-c")
            .arg(root().join("infra/nats/node.conf"))
            .envs(self.nodes[0].env.iter().map(|(k, v)| (k, v)))
            .output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            bail!("nats-server -t refused infra/nats/node.conf: {text}");
        }
        Ok(text)
    }

    /// `NATS_URL` and, on a broker with users, `admin`'s `NATS_USER` and `NATS_PASSWORD`: what
    /// `migrate` needs to declare the topology.
    pub fn admin_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("NATS_URL".to_owned(), self.url.clone())];
        if self.users {
            env.push(("NATS_USER".to_owned(), "admin".to_owned()));
            env.push(("NATS_PASSWORD".to_owned(), password("admin")));
        }
        env
    }

    /// Whether each function must connect as its own user.
    pub fn has_users(&self) -> bool {
        self.users
    }

    /// A client of the whole broker (as `admin` on a cluster), for tests.
    pub async fn client(&self) -> anyhow::Result<async_nats::Client> {
        let mut options = async_nats::ConnectOptions::new().retry_on_initial_connect();
        if self.users {
            options = options.user_and_password("admin".into(), password("admin"));
        }
        let servers: Vec<&str> = self.url.split(',').collect();
        Ok(options.connect(servers).await?)
    }

    /// The client URL of node `i`.
    pub fn node_url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].port)
    }

    /// Kills every node (stores stay).
    pub fn stop(&self) {
        (0..self.nodes.len()).for_each(|i| self.stop_node(i));
    }

    /// Kills node `i` at once (SIGKILL: a crash, not a shutdown).
    pub fn stop_node(&self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts every stopped node again; waits until each accepts connections.
    pub fn resume(&self) -> anyhow::Result<()> {
        (0..self.nodes.len()).try_for_each(|i| self.resume_node(i))
    }

    /// Starts node `i` again on its ports and store.
    pub fn resume_node(&self, i: usize) -> anyhow::Result<()> {
        let node = &self.nodes[i];
        let mut guard = node.child.lock().unwrap();
        if guard.is_some() {
            return Ok(());
        }
        let bin = nats_server_bin();
        let mut command = Command::new(&bin);
        if node.env.is_empty() {
            command.args(["-a", "127.0.0.1", "-p", &node.port.to_string()]);
            if self.sync_always {
                let conf = node.store.path().join("sync.conf");
                let text = format!(
                    "jetstream {{ store_dir: {:?}, sync_interval: always }}\n",
                    node.store.path().join("js")
                );
                std::fs::write(&conf, text)?;
                command.arg("-c").arg(conf);
            } else {
                command.args(["-js", "-sd"]).arg(node.store.path());
            }
        } else {
            command
                .arg("-c")
                .arg(root().join("infra/nats/node.conf"))
                .envs(node.env.iter().map(|(k, v)| (k, v)));
        }
        let log = std::fs::File::create(node.store.path().join("server.log"))?;
        let child = command
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {} (run `make tools`)", bin.display()))?;
        *guard = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", node.port)).is_err() {
            if Instant::now() > deadline {
                bail!("nats-server did not open port {}", node.port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Node `i`'s log (cluster nodes and a restarted node keep theirs in the store).
    pub fn node_log(&self, i: usize) -> String {
        std::fs::read_to_string(self.nodes[i].store.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
