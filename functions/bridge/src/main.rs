//! fn-bridge binary: the shared start-up, then [`fn_bridge::run`].

use std::process::ExitCode;

use fn_bridge::{Settings, run};
use runtime::nats::topology::BRIDGE;

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch_with(BRIDGE, Settings::from_env, run).await
}
