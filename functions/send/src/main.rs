//! fn-send binary: settings, telemetry, connections and the sweeper, then the shared runner.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch(fn_send::Send::new).await
}
