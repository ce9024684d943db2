//! fn-reply binary: settings, telemetry, connections, then the shared runner.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch(fn_reply::Reply::new).await
}
