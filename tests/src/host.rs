//! This machine as the tests see it: the workspace root, the folder of the built function
//! binaries, and a free loopback port. The harness, the nats-server runner and the container
//! runner all start from these, so they sit below all three.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// The folder holding the built binaries (`target/debug`), found from the running executable.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FUNCTIONS_BIN_DIR") {
        return dir.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors()
        .skip(1)
        .find(|d| d.join("fn-updates").exists())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root().join("target/debug"))
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
