//! `make run` as a new user meets it: `infra/dev/run.sh` with `.env.example` as its `.env`,
//! from an empty database, the terminal chat fed a script — /start → 18+ → Stacy → a message
//! → 📸 → a saved photo → a voice note heard and an answer spoken — and then a second time on the same machine (same database, NATS
//! store and folder), where Telegram no longer knows the avatars' cached file ids. Also: the
//! functions it starts (`fn-<folder>` for each folder under `functions/`) are the ones the
//! topology names, each with its image and its NATS user.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runtime::nats::topology::{ALL_FUNCTIONS, BRIDGE, FUNCTIONS};
use standins::harness::{TestDb, bin_dir, free_port, nats_server_bin, root};

/// The first run: the age gate, the picker (a caption with name and age), a persona, a
/// message, a photo.
const FIRST: &str = "/start
#press 18 or older
#expect Stacy, 19
#expect Who would you like to talk to?
#press Stacy
#expect instant noodles
hello from the script
#expect I love hearing that
#press 📸 Photo
#expect is taking a photo
#expect 📷 photo
#voice a voice from the terminal
#expect 🎤 a voice from the terminal
#expect I love hearing that: \"a voice from the terminal\"
#press 🔊
#expect [voice note]
/quit
";

/// The second run: the menu's avatars again (their file ids are unknown to this Telegram),
/// then the conversation goes on.
const SECOND: &str = "/start
#expect 📷 photo
#press Stacy
the second run says hi
#expect I love hearing that: \"the second run says hi\"
#press 📸 Photo
#expect is taking a photo
#expect 📷 photo
/quit
";

struct Run {
    dir: std::path::PathBuf,
    envs: Vec<(String, String)>,
}

impl Run {
    fn new(dir: &std::path::Path, db: &TestDb) -> Self {
        let nats = free_port();
        let addr = || format!("127.0.0.1:{}", free_port());
        let envs = vec![
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("HOME", std::env::var("HOME").unwrap_or_default()),
            (
                "ENV_FILE",
                root().join(".env.example").display().to_string(),
            ),
            ("RUN_DIR", dir.display().to_string()),
            ("BIN_DIR", bin_dir().display().to_string()),
            ("NATS_SERVER_BIN", nats_server_bin().display().to_string()),
            ("NATS_PORT", nats.to_string()),
            ("NATS_URL", format!("nats://127.0.0.1:{nats}")),
            ("DATABASE_URL", db.url.clone()),
            ("INGRESS_ADDR", addr()),
            ("STANDIN_TELEGRAM_ADDR", addr()),
            ("STANDIN_LLM_ADDR", addr()),
            ("STANDIN_IMAGE_ADDR", addr()),
            ("STANDIN_AUDIO_ADDR", addr()),
            ("STANDIN_LLM_DELAY_MS", "50".to_owned()),
            ("CHAT_EXPECT_SECS", "60".to_owned()),
        ];
        Self {
            dir: dir.to_path_buf(),
            envs: envs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }

    /// Runs `run.sh` with `script` as the chat's input; its exit status and everything shown.
    fn run(&self, script: &str) -> (bool, String) {
        use std::os::unix::process::CommandExt;
        let out = self.dir.join("run.out");
        let file = std::fs::File::create(&out).expect("output file");
        let mut child = Command::new("bash")
            .arg(root().join("infra/dev/run.sh"))
            .env_clear()
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(file.try_clone().expect("output"))
            .stderr(file)
            .process_group(0)
            .spawn()
            .expect("run.sh starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("script written");
        let deadline = Instant::now() + Duration::from_secs(240);
        let ok = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.success();
            }
            if Instant::now() > deadline {
                let _ = Command::new("kill")
                    .args(["-TERM", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                break false;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let said = std::fs::read_to_string(&out).unwrap_or_default();
        (ok, said)
    }

    fn logs(&self) -> String {
        let mut all = String::new();
        for f in [
            "fn-ingress",
            "fn-updates",
            "fn-send",
            "fn-image",
            "standins",
        ] {
            let log = self.dir.join(format!("logs/{f}.log"));
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            all += &format!("--- {f} (last lines)\n{tail}\n");
        }
        all
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn make_run_works_the_first_time_and_every_time_after() {
    let db = TestDb::create().await.expect("database");
    let dir = tempfile::tempdir().expect("temp dir");
    let run = Run::new(dir.path(), &db);
    let r = tokio::task::spawn_blocking(move || {
        let first = run.run(FIRST);
        let second = run.run(SECOND);
        (first, second, run.logs())
    })
    .await
    .expect("runs");
    let ((ok1, said1), (ok2, said2), logs) = r;
    assert!(ok1, "first `make run` failed:\n{said1}\n{logs}");
    assert!(
        said1.contains(&format!("all {} functions are up", FUNCTIONS.len())),
        "{BRIDGE} is not started without BRIDGE_ROUTES:\n{said1}"
    );
    assert!(
        ok2,
        "second `make run` on the same machine failed:\n{said2}\n{logs}"
    );
    for said in [&said1, &said2] {
        assert!(
            !said.contains("went wrong"),
            "the user was told something went wrong:\n{said}\n{logs}"
        );
    }
    let photos = std::fs::read_dir(dir.path().join("files"))
        .expect("saved files")
        .count();
    assert!(photos >= 2, "photos saved: {photos}");
}

#[test]
fn every_function_folder_is_named_in_the_topology_with_an_image_and_a_nats_user() {
    let folders: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| format!("fn-{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    let mut sorted = folders.clone();
    sorted.sort();
    let mut named: Vec<String> = ALL_FUNCTIONS.iter().map(|f| (*f).to_owned()).collect();
    named.sort();
    assert_eq!(
        sorted, named,
        "functions/ against the topology's ALL_FUNCTIONS"
    );
    assert!(FUNCTIONS.iter().all(|f| ALL_FUNCTIONS.contains(f)) && !FUNCTIONS.contains(&BRIDGE));
    let build = std::fs::read_to_string(root().join("infra/images/build.sh")).unwrap();
    let images = build
        .lines()
        .find_map(|l| l.strip_prefix("functions=\""))
        .expect("build.sh lists its images");
    let users = std::fs::read_to_string(root().join("infra/nats/users.conf")).unwrap();
    for f in ALL_FUNCTIONS {
        assert!(
            images.split([' ', '"']).any(|i| i == f),
            "{f}: no image in build.sh"
        );
        assert!(
            users.contains(&format!("{{user: {f}, ")),
            "{f}: no user in users.conf"
        );
    }
}
