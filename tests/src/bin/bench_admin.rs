//! `bench-admin`: seeds the admin panel's realistic dataset and prints each section's time
//! (see `standins::bench::admin`); `BENCH_ADMIN_USERS` sets the size (default 100,000).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let users = std::env::var("BENCH_ADMIN_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let report = standins::bench::admin::run(users).await?;
    println!("{}", report.table());
    let dir = standins::harness::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("admin-latest.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!("written: target/bench/admin-latest.json");
    Ok(())
}
