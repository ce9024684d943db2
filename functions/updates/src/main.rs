//! fn-updates binary: settings, telemetry, connections and personas, then the shared runner.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // The minor-safety term lists are built while the function connects.
    companion::content::safety::prepare();
    runtime::app::launch(fn_updates::Updates::new).await
}
