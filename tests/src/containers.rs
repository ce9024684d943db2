//! Functions as containers: when a function's environment holds `FUNCTIONS_IMAGE_TAG`, the
//! harness runs `companion/<function>:<tag>` with podman (host network, the repository and
//! /tmp mounted read-only at the same paths so paths in the environment hold) instead of the
//! binary. Images come from `infra/images/build.sh`.

use std::process::Command;

use anyhow::{Context, bail};

use crate::host::root;

/// The environment key that switches a function to its image.
pub const IMAGE_TAG: &str = "FUNCTIONS_IMAGE_TAG";

/// `podman` with this repository's containers.conf (written by `infra/dev/podman.sh`).
pub fn podman() -> Command {
    let mut c = Command::new("podman");
    c.env("CONTAINERS_CONF", root().join(".tools/containers.conf"));
    c
}

/// The `podman run` of function `name` with `envs`, and the container's name, when `envs`
/// asks for images.
pub fn run_command(name: &str, envs: &[(String, String)]) -> Option<(Command, String)> {
    let tag = envs.iter().rev().find(|(k, _)| k == IMAGE_TAG)?.1.clone();
    let container = format!(
        "{name}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let mut c = podman();
    c.args([
        "run",
        "--rm",
        "--no-healthcheck",
        "--network",
        "host",
        "--name",
        &container,
    ]);
    let repo = root().display().to_string();
    c.args(["-v", &format!("{repo}:{repo}:ro"), "-v", "/tmp:/tmp:ro"]);
    for (k, v) in envs {
        c.args(["-e", &format!("{k}={v}")]);
    }
    c.arg(format!("companion/{name}:{tag}"));
    Some((c, container))
}

/// Removes a container at once (SIGKILL), whatever state it is in.
pub fn remove(container: &str) {
    let _ = podman().args(["rm", "-f", "-t", "0", container]).output();
}

/// Builds every function's image from the binaries in `bin_dir`, tagged `tag`.
pub fn build_images(bin_dir: &std::path::Path, tag: &str) -> anyhow::Result<()> {
    let out = Command::new(root().join("infra/images/build.sh"))
        .arg(bin_dir)
        .arg(tag)
        .output()
        .context("running infra/images/build.sh")?;
    if !out.status.success() {
        bail!(
            "building the images failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
