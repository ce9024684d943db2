//! fn-bridge binary: the shared start-up, then [`fn_bridge::run`].

use std::process::ExitCode;

use fn_bridge::{NAME, Settings, run};

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch_with(NAME, Settings::from_env, run).await
}
