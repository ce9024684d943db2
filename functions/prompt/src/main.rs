//! fn-prompt binary: settings, telemetry, connections, then the shared runner.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch(fn_prompt::Prompt::new).await
}
