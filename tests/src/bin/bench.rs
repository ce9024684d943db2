//! `bench`: runs the pipeline benchmark (see `standins::bench`), prints the table and writes
//! it as JSON under `target/bench/`. `BENCH_ONLY=cost` prints only what one text turn costs.

use standins::bench::{Sizes, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes = Sizes::from_env();
    if std::env::var("BENCH_ONLY").as_deref() == Ok("cost") {
        // The per-turn operation counts alone, in a few seconds.
        let cost = standins::bench::text_turn_cost(sizes.count_turns).await?;
        println!("{}", serde_json::to_string_pretty(&cost)?);
        return Ok(());
    }
    let report = run(&sizes).await?;
    println!("{}", report.table());
    let dir = standins::harness::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(&report)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    std::fs::write(dir.join(format!("bench-{stamp}.json")), &json)?;
    std::fs::write(dir.join("latest.json"), &json)?;
    println!("written: target/bench/latest.json");
    Ok(())
}
