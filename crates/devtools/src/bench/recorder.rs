//! Collecting the samples while the load runs: per-second buckets (for the charts and the
//! percentiles), outcome counts, the `--pid` readings, and the progress line on stderr.

use super::load::{Outcome, Sample};
use super::procs::ProcessWatch;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// The requests that ended within one second of the run.
#[derive(Default)]
pub struct Second {
    pub requests: u64,
    pub errors: u64,
    pub latencies_us: Vec<u64>,
}

/// Everything a run measured.
pub struct Recording {
    pub elapsed: Duration,
    pub seconds: Vec<Second>,
    pub outcomes: BTreeMap<Outcome, u64>,
    pub processes: Vec<ProcessWatch>,
}

impl Recording {
    fn record(&mut self, sample: Sample) {
        let index = sample.ended_after.as_secs() as usize;
        if self.seconds.len() <= index {
            self.seconds.resize_with(index + 1, Second::default);
        }
        let second = &mut self.seconds[index];
        second.requests += 1;
        second.errors += u64::from(sample.outcome.is_error());
        second.latencies_us.push(sample.latency.as_micros() as u64);
        *self.outcomes.entry(sample.outcome).or_default() += 1;
    }

    /// Receive samples until the load's senders are gone; once a second, read the processes
    /// and redraw the progress line.
    pub async fn collect(
        mut samples: UnboundedReceiver<Sample>,
        processes: Vec<ProcessWatch>,
        run_start: Instant,
        duration: Duration,
    ) -> Recording {
        let mut recording = Recording {
            elapsed: Duration::ZERO,
            seconds: Vec::new(),
            outcomes: BTreeMap::new(),
            processes,
        };
        let tick = Duration::from_secs(1);
        let mut ticks = tokio::time::interval_at((run_start + tick).into(), tick);
        let progress = Progress::new();
        loop {
            tokio::select! {
                sample = samples.recv() => match sample {
                    Some(sample) => recording.record(sample),
                    None => break,
                },
                _ = ticks.tick() => {
                    let second = run_start.elapsed().as_secs();
                    for process in &mut recording.processes {
                        process.sample(second);
                    }
                    progress.draw(&recording, second, duration);
                }
            }
        }
        progress.clear();
        recording.elapsed = run_start.elapsed();
        recording
    }
}

/// The progress line: redrawn in place on a terminal, one line per second otherwise.
struct Progress {
    terminal: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn draw(&self, recording: &Recording, second: u64, duration: Duration) {
        let requests: u64 = recording.seconds.iter().map(|s| s.requests).sum();
        let errors: u64 = recording.seconds.iter().map(|s| s.errors).sum();
        let last_second = (second as usize)
            .checked_sub(1)
            .and_then(|i| recording.seconds.get(i))
            .map_or(0, |s| s.requests);
        let line = format!(
            "{second:>4}s/{}s  {requests} requests  {last_second} req/s  errors {errors} ({:.2}%)",
            duration.as_secs(),
            100.0 * errors as f64 / requests.max(1) as f64
        );
        match self.terminal {
            true => eprint!("\r{line}\x1b[K"),
            false => eprintln!("{line}"),
        }
    }

    fn clear(&self) {
        if self.terminal {
            eprint!("\r\x1b[K");
        }
    }
}
