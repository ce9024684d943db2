//! `chaos`: runs `make chaos` (see `standins::chaos`), prints what it counted, writes it as JSON
//! under `target/chaos/`, and exits non-zero when a check failed.

use std::process::ExitCode;

use standins::chaos::{ChaosSizes, run};

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let report = run(&ChaosSizes::from_env()).await?;
    println!("{}", report.table());
    let dir = standins::harness::root().join("target/chaos");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("latest.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let failures = report.failures();
    if failures.is_empty() {
        println!("chaos passed");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("CHAOS FAILED: {}", failures.join("; "));
        Ok(ExitCode::FAILURE)
    }
}
