//! fn-ingress binary: the shared start-up, then [`fn_ingress::run`].

use std::process::ExitCode;

use fn_ingress::{Settings, run};
use runtime::nats::topology::INGRESS;

#[tokio::main]
async fn main() -> ExitCode {
    runtime::app::launch_with(INGRESS, Settings::from_env, run).await
}
