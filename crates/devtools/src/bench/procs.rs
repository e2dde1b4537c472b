//! `--pid`: resident memory and CPU of the processes under load (the Sluice server and its
//! workers), read from /proc once a second so the report shows what the load cost them; and the
//! generator's own CPU, which a small machine takes from them.

use serde::Serialize;
use std::time::Instant;

/// One second's reading of a process.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessSample {
    /// Seconds since the start of the run.
    pub second: u64,
    pub rss_mb: f64,
    /// CPU time used in the last second, in percent of one core.
    pub cpu_percent: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessReport {
    pub pid: u32,
    pub name: String,
    pub peak_rss_mb: f64,
    pub mean_cpu_percent: f64,
    pub samples: Vec<ProcessSample>,
}

/// A process being sampled.
pub struct ProcessWatch {
    pid: u32,
    name: String,
    ticks_per_second: f64,
    last_cpu_ticks: u64,
    last_read: Instant,
    samples: Vec<ProcessSample>,
    exited: bool,
}

impl ProcessWatch {
    pub fn open(pid: u32) -> Result<ProcessWatch, String> {
        let no_process = |_| format!("no process with pid {pid}");
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).map_err(no_process)?;
        // SAFETY: sysconf only reads a system constant.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        Ok(ProcessWatch {
            pid,
            name: name.trim().to_string(),
            ticks_per_second,
            last_cpu_ticks: cpu_ticks(pid).map_err(no_process)?,
            last_read: Instant::now(),
            samples: Vec::new(),
            exited: false,
        })
    }

    /// Read the process now; once it has exited, its samples stop.
    pub fn sample(&mut self, second: u64) {
        if self.exited {
            return;
        }
        let (Ok(ticks), Ok(rss_kb)) = (cpu_ticks(self.pid), rss_kb(self.pid)) else {
            self.exited = true;
            return;
        };
        let now = Instant::now();
        let cpu_seconds = ticks.saturating_sub(self.last_cpu_ticks) as f64 / self.ticks_per_second;
        let wall_seconds = (now - self.last_read).as_secs_f64();
        self.samples.push(ProcessSample {
            second,
            rss_mb: rss_kb as f64 / 1024.0,
            cpu_percent: 100.0 * cpu_seconds / wall_seconds,
        });
        self.last_cpu_ticks = ticks;
        self.last_read = now;
    }

    pub fn report(self) -> ProcessReport {
        let peak_rss_mb = self.samples.iter().map(|s| s.rss_mb).fold(0.0, f64::max);
        let cpu_total: f64 = self.samples.iter().map(|s| s.cpu_percent).sum();
        ProcessReport {
            pid: self.pid,
            name: self.name,
            peak_rss_mb,
            mean_cpu_percent: cpu_total / self.samples.len().max(1) as f64,
            samples: self.samples,
        }
    }
}

/// User + system CPU time in clock ticks (fields 14 and 15 of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> std::io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after it start at its closing ')'.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (field(14), field(15)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => Err(std::io::Error::other("unexpected /proc/PID/stat")),
    }
}

/// Resident set size in kB (`VmRSS` in /proc/PID/status).
fn rss_kb(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no VmRSS in /proc/PID/status"))
}

/// CPU time (user and system, all threads) this process has used so far, in seconds: what the
/// load generator itself costs the machine it shares with the server.
pub fn own_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let mut watch = ProcessWatch::open(std::process::id()).unwrap();
        watch.sample(1);
        let report = watch.report();
        assert_eq!(report.samples.len(), 1);
        assert!(report.peak_rss_mb > 0.0);
        assert!(ProcessWatch::open(u32::MAX).is_err());
    }
}
