//! Per-function figures read from the operating system: time from exec to the "ready" log
//! line, and resident memory from `/proc/<pid>/status`.

use std::time::{Duration, Instant};

use crate::host::free_port;
use crate::system::System;

/// Resident set size of `pid` in kilobytes.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Starts a throw-away copy of `name`, times exec → "ready", and stops it again.
pub async fn exec_to_ready(sys: &System, name: &str) -> anyhow::Result<Duration> {
    let probe = format!("{name}-probe");
    let addr = format!("127.0.0.1:{}", free_port());
    let log = sys.log_path(&probe);
    let _ = std::fs::remove_file(&log);
    let started = Instant::now();
    sys.spawn_copy(name, &probe, &[("INGRESS_ADDR", &addr)])?;
    loop {
        if std::fs::read_to_string(&log)
            .map(|t| t.contains("ready"))
            .unwrap_or(false)
        {
            let took = started.elapsed();
            sys.stop_copy(&probe);
            return Ok(took);
        }
        if started.elapsed() > Duration::from_secs(30) {
            sys.stop_copy(&probe);
            anyhow::bail!("{name} did not get ready in 30 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}
