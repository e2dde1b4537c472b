//! `--check`: the targets a run must meet and the list of those it missed, each named with the
//! measured figure, so CI fails with a reason.

use super::report::Report;
use super::BenchArgs;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    /// Requests per second, at least.
    pub throughput: Option<f64>,
    /// 99th percentile latency in milliseconds, at most.
    pub p99_ms: Option<f64>,
    /// Share of failed requests (0-1), at most.
    pub error_rate: Option<f64>,
    /// Peak RSS of each `--pid` process in MB, at most.
    pub rss_mb: Option<f64>,
}

impl Targets {
    /// The targets of a `--check` run (`None` without `--check`).
    pub fn from_args(args: &BenchArgs) -> Result<Option<Targets>, String> {
        let targets = Targets {
            throughput: args.target_throughput,
            p99_ms: args.target_p99_ms,
            error_rate: args.target_error_rate,
            rss_mb: args.target_rss_mb,
        };
        let any = targets != Targets::default();
        if !args.check {
            return match any {
                true => Err("--target-* flags need --check".into()),
                false => Ok(None),
            };
        }
        if !any {
            return Err("--check needs at least one --target-* flag".into());
        }
        if targets.rss_mb.is_some() && args.pids.is_empty() {
            return Err("--target-rss-mb needs the processes to watch (--pid)".into());
        }
        Ok(Some(targets))
    }

    /// One line per missed target, naming it and what was measured.
    pub fn missed(&self, report: &Report) -> Vec<String> {
        let mut missed = Vec::new();
        if let Some(target) = self.throughput.filter(|&t| report.throughput < t) {
            missed.push(format!(
                "throughput {:.1} req/s is below the target {target} req/s",
                report.throughput
            ));
        }
        if let Some(target) = self.p99_ms.filter(|&t| report.latency_ms.p99 > t) {
            missed.push(format!(
                "p99 latency {:.2} ms is above the target {target} ms",
                report.latency_ms.p99
            ));
        }
        if let Some(target) = self.error_rate.filter(|&t| report.error_rate > t) {
            missed.push(format!(
                "error rate {:.3}% is above the target {}%",
                report.error_rate * 100.0,
                target * 100.0
            ));
        }
        if let Some(target) = self.rss_mb {
            for process in report.processes.iter().filter(|p| p.peak_rss_mb > target) {
                missed.push(format!(
                    "peak RSS of pid {} ({}) {:.1} MB is above the target {target} MB",
                    process.pid, process.name, process.peak_rss_mb
                ));
            }
        }
        missed
    }
}
