//! fn-reply binary: settings, telemetry, connections, then the shared runner.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // The minor-safety term lists are built while the function connects.
    companion::content::safety::prepare();
    runtime::app::launch(fn_reply::Reply::new).await
}
