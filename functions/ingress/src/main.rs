//! fn-ingress binary: telemetry and settings, then [`fn_ingress::run`].

use std::process::ExitCode;

use fn_ingress::{NAME, Settings, run};
use shared::app::fail;
use shared::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return shared::ops::healthcheck();
    }
    telemetry::init(NAME);
    if let Err(e) = shared::secrets::load().await {
        return fail(NAME, &e.to_string(), 2);
    }
    let s = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(NAME, &e.to_string(), 2),
    };
    let result = run(s).await;
    telemetry::shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(NAME, &e, 1),
    }
}
