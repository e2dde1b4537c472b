//! The result of a run in one shape for all three outputs (the table on stdout, `--json`,
//! `--html`): totals, latency percentiles, outcome counts, one row per second, the processes.

use super::check::Targets;
use super::plan::{Mode, Plan};
use super::procs::ProcessReport;
use super::queue_watch::QueueReport;
use super::recorder::{Recording, Second};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub url: String,
    /// `open` (fixed rate) or `closed` (fixed connections).
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    pub connections: usize,
    pub duration_secs: f64,
    /// From the first request to the last answer.
    pub elapsed_secs: f64,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    /// Requests per second over `elapsedSecs`.
    pub throughput: f64,
    pub latency_ms: Latency,
    /// Requests by status code, or by what went wrong when there was no answer.
    pub status_codes: BTreeMap<String, u64>,
    pub per_second: Vec<SecondReport>,
    pub processes: Vec<ProcessReport>,
    /// The queue's depth and lag, with `--queue-metrics`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueReport>,
    /// What sending the load cost this process (on a small machine, CPU the server did not get).
    pub generator: Generator,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckResult>,
}

/// The load generator's own CPU over the run.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    /// Mean, in percent of one core.
    pub cpu_percent: f64,
    pub cpu_us_per_request: f64,
}

impl Generator {
    pub fn describe(&self) -> String {
        format!(
            "CPU {:.0}% of a core ({:.1} us per request)",
            self.cpu_percent, self.cpu_us_per_request
        )
    }
}

/// Latency figures in milliseconds (nearest-rank percentiles).
#[derive(Serialize, Default)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecondReport {
    pub second: u64,
    pub requests: u64,
    pub errors: u64,
    pub latency_ms: Latency,
}

#[derive(Serialize)]
pub struct CheckResult {
    pub targets: Targets,
    /// One line per missed target; empty when the run met them all.
    pub missed: Vec<String>,
}

impl Latency {
    fn of(mut latencies_us: Vec<u64>) -> Latency {
        if latencies_us.is_empty() {
            return Latency::default();
        }
        latencies_us.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        let percentile = |q: f64| {
            let rank = (q * latencies_us.len() as f64).ceil() as usize;
            ms(latencies_us[rank.clamp(1, latencies_us.len()) - 1])
        };
        Latency {
            mean: ms(latencies_us.iter().sum::<u64>()) / latencies_us.len() as f64,
            p50: percentile(0.50),
            p90: percentile(0.90),
            p99: percentile(0.99),
            max: ms(*latencies_us.last().expect("not empty")),
        }
    }
}

impl Report {
    /// The report of `recording` (and of the `queue` read meanwhile), made by `plan`'s load,
    /// which took `generator_cpu_secs` of this process's CPU.
    pub fn new(
        plan: &Plan,
        recording: Recording,
        queue: Option<QueueReport>,
        generator_cpu_secs: f64,
    ) -> Report {
        let requests: u64 = recording.seconds.iter().map(|s| s.requests).sum();
        let errors: u64 = recording.seconds.iter().map(|s| s.errors).sum();
        let elapsed_secs = recording.elapsed.as_secs_f64();
        let all_latencies = recording
            .seconds
            .iter()
            .flat_map(|s| s.latencies_us.iter().copied())
            .collect();
        let per_second = recording
            .seconds
            .into_iter()
            .enumerate()
            .map(
                |(
                    index,
                    Second {
                        requests,
                        errors,
                        latencies_us,
                    },
                )| SecondReport {
                    second: index as u64,
                    requests,
                    errors,
                    latency_ms: Latency::of(latencies_us),
                },
            )
            .collect();
        let mut report = Report {
            url: plan.url.to_string(),
            mode: match plan.mode {
                Mode::Open { .. } => "open",
                Mode::Closed { .. } => "closed",
            },
            rate: match plan.mode {
                Mode::Open { rate, .. } => Some(rate),
                Mode::Closed { .. } => None,
            },
            connections: plan.mode.connections(),
            duration_secs: plan.duration.as_secs_f64(),
            elapsed_secs,
            requests,
            errors,
            error_rate: errors as f64 / requests.max(1) as f64,
            throughput: requests as f64 / elapsed_secs,
            latency_ms: Latency::of(all_latencies),
            status_codes: recording
                .outcomes
                .into_iter()
                .map(|(outcome, count)| (outcome.label(), count))
                .collect(),
            per_second,
            processes: recording
                .processes
                .into_iter()
                .map(|p| p.report())
                .collect(),
            queue,
            generator: Generator {
                cpu_percent: 100.0 * generator_cpu_secs / elapsed_secs.max(1e-9),
                cpu_us_per_request: 1e6 * generator_cpu_secs / requests.max(1) as f64,
            },
            check: None,
        };
        if let Some(targets) = &plan.targets {
            report.check = Some(CheckResult {
                missed: targets.missed(&report),
                targets: targets.clone(),
            });
        }
        report
    }

    /// How the load was sent, in words.
    pub fn describe_load(&self) -> String {
        match self.rate {
            Some(rate) => format!(
                "open loop, {rate} req/s (at most {} in flight), {}s",
                self.connections, self.duration_secs
            ),
            None => format!(
                "closed loop, {} connections, {}s",
                self.connections, self.duration_secs
            ),
        }
    }

    /// The summary printed at the end of a run.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let mut row = |name: &str, value: String| {
            let _ = writeln!(out, "  {name:<12} {value}");
        };
        row("url", format!("{} ({})", self.url, self.describe_load()));
        row("requests", self.requests.to_string());
        row("throughput", format!("{:.1} req/s", self.throughput));
        row(
            "errors",
            format!("{} ({:.3}%)", self.errors, self.error_rate * 100.0),
        );
        let l = &self.latency_ms;
        row(
            "latency",
            format!(
                "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  mean {:.2} ms",
                l.p50, l.p90, l.p99, l.max, l.mean
            ),
        );
        let statuses: Vec<String> = self
            .status_codes
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        row("status", statuses.join("  "));
        row("generator", self.generator.describe());
        for process in &self.processes {
            row(
                "process",
                format!(
                    "pid {} ({}): peak RSS {:.1} MB, mean CPU {:.0}%",
                    process.pid, process.name, process.peak_rss_mb, process.mean_cpu_percent
                ),
            );
        }
        if let Some(queue) = &self.queue {
            row("queue", queue.describe());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let latency = Latency::of((1..=100).rev().map(|ms| ms * 1000).collect());
        assert_eq!(latency.p50, 50.0);
        assert_eq!(latency.p90, 90.0);
        assert_eq!(latency.p99, 99.0);
        assert_eq!(latency.max, 100.0);
        assert_eq!(latency.mean, 50.5);
        assert_eq!(Latency::of(vec![7000]).p50, 7.0);
        assert_eq!(Latency::of(Vec::new()).max, 0.0);
    }
}
