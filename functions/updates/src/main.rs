//! fn-updates binary: settings, telemetry, connections and personas, then the shared runner.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch(fn_updates::Updates::new).await
}
