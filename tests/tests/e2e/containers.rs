//! The functions as containers: images built offline by `infra/images/build.sh` from the
//! binaries under test (FROM scratch, non-root, labelled), every function run from its image
//! with podman against the real NATS and PostgreSQL and the stand-ins, and a user gets a reply
//! and a photo; the image's health check asks the function's ops port.

use standins::containers::{IMAGE_TAG, build_images, podman};
use standins::harness::{bin_dir, free_port};
use standins::system::System;

use crate::helpers::Chat;
use crate::photos::photo_of;

const TAG: &str = "e2e";

fn inspect(image: &str, format: &str) -> String {
    let out = podman()
        .args(["image", "inspect", image, "--format", format])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_runs_from_its_image() {
    build_images(&bin_dir(), TAG).expect("images build here, offline");
    for f in runtime::nats::topology::FUNCTIONS {
        let image = format!("companion/{f}:{TAG}");
        assert_eq!(
            inspect(&image, "{{.Config.User}}"),
            "10001:10001",
            "{image}"
        );
        let revision = inspect(
            &image,
            "{{index .Labels \"org.opencontainers.image.revision\"}}",
        );
        assert!(!revision.is_empty() && revision != "<no value>", "{image}");
    }

    let sys = System::start("containers", &[(IMAGE_TAG, TAG), ("OPS_ADDR", "")])
        .await
        .unwrap();
    let chat = Chat::new(&sys, 9401);
    chat.open_dialog().await;
    let answer = chat.turn("are you in a container?").await;
    let (photo, _) = photo_of(&chat, &answer).await;
    assert_eq!(photo.method, "sendphoto");

    // The health check inside the image: healthy while the ops port answers, not after.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    sys.start_copy("fn-send", "fn-send-ops", &[("OPS_ADDR", addr.as_str())])
        .await
        .unwrap();
    let check = || {
        podman()
            .args(["run", "--rm", "--network", "host", "-e"])
            .arg(format!("OPS_ADDR={addr}"))
            .arg(format!("companion/fn-send:{TAG}"))
            .arg("healthcheck")
            .status()
            .unwrap()
            .success()
    };
    assert!(check(), "healthy");
    sys.stop_copy("fn-send-ops");
    assert!(!check(), "unhealthy once stopped");
}
