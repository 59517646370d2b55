//! CPU time and memory of processes, from Linux's /proc.

use std::collections::HashMap;

use anyhow::{Context, bail};

/// Clock ticks per second of /proc/*/stat times (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// (comm, utime + stime in ticks) of a process, summed over its threads by the kernel.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    let open = stat.find('(').context("malformed stat")?;
    let close = stat.rfind(')').context("malformed stat")?;
    let comm = stat[open + 1..close].to_owned();
    // After "pid (comm) " come: state(3) ppid(4) ... utime(14) stime(15).
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    if fields.len() < 13 {
        bail!("short /proc/{pid}/stat");
    }
    let utime: u64 = fields[11].parse().context("utime")?;
    let stime: u64 = fields[12].parse().context("stime")?;
    Ok((comm, utime + stime))
}

/// A value in kB from /proc/PID/status (`VmHWM`, `VmRSS`).
pub fn status_kb(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(key).and_then(|r| r.strip_prefix(':')) {
            let n = rest.trim().trim_end_matches("kB").trim();
            return n.parse().with_context(|| format!("{key} in /proc/{pid}/status"));
        }
    }
    bail!("no {key} in /proc/{pid}/status")
}

/// CPU ticks of every process named `postgres`, by pid, split into the backends serving
/// `database` (their title, `postgres: … <user> <database> <addr> …`, names it) and the rest
/// (postmaster, checkpointer, background writer, WAL writer, autovacuum, other databases'
/// backends).
#[derive(Default, Clone)]
pub struct PgSnapshot {
    pub db_backends: HashMap<u32, u64>,
    pub others: HashMap<u32, u64>,
}

pub fn postgres_snapshot(database: &str) -> PgSnapshot {
    let mut snap = PgSnapshot::default();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return snap;
    };
    let needle = format!(" {database} ");
    for entry in dir.flatten().take(100_000) {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok((comm, ticks)) = cpu_ticks(pid) else {
            continue;
        };
        if comm != "postgres" {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if cmdline.contains(&needle) {
            snap.db_backends.insert(pid, ticks);
        } else {
            snap.others.insert(pid, ticks);
        }
    }
    snap
}

/// Ticks spent between two snapshots by the processes alive at the second one (a process
/// started in between counts from zero; one that exited in between is lost).
pub fn delta(before: &HashMap<u32, u64>, after: &HashMap<u32, u64>) -> u64 {
    after
        .iter()
        .map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum()
}
