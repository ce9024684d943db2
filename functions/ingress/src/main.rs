//! fn-ingress binary: the shared start-up, then [`fn_ingress::run`].

use std::process::ExitCode;

use fn_ingress::{NAME, Settings, run};

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch_with(NAME, Settings::from_env, run).await
}
