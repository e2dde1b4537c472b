//! `--queue-metrics URL`: the queue's depth and lag while the load runs, read once a second from
//! the Prometheus `/metrics` of a Sluice process in queue mode (the main or a worker), so the
//! report shows whether the workers kept up with what the webhooks accepted.

use super::connection::{Connection, Target};
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

/// A scrape slower than this is skipped: the next second's reading comes instead.
const SCRAPE_TIMEOUT: Duration = Duration::from_millis(900);

/// The queue at one second of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueSample {
    /// Seconds since the start of the run.
    pub second: u64,
    /// Jobs ready to run, every priority.
    pub waiting: u64,
    /// Jobs due later (delayed, or waiting for a retry).
    pub delayed: u64,
    /// Jobs a worker holds.
    pub in_flight: u64,
    /// How long the oldest ready job has waited.
    pub lag_seconds: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueReport {
    pub url: String,
    pub peak_waiting: u64,
    pub peak_lag_seconds: f64,
    pub peak_in_flight: u64,
    pub samples: Vec<QueueSample>,
}

impl QueueReport {
    pub fn describe(&self) -> String {
        format!(
            "peak depth {} waiting, peak lag {:.2} s, at most {} in flight ({} readings)",
            self.peak_waiting,
            self.peak_lag_seconds,
            self.peak_in_flight,
            self.samples.len()
        )
    }
}

/// A queue-mode metrics page, checked to answer with the queue's gauges.
pub struct QueueMetrics {
    url: String,
    target: Target,
    connection: Connection,
}

impl QueueMetrics {
    /// Read `url` once: a clear error when it is not a queue-mode metrics page.
    pub async fn open(url: &str) -> Result<QueueMetrics, String> {
        let bad = |why: String| format!("--queue-metrics {url}: {why}");
        let parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("only http and https URLs".into()));
        }
        let target = Target::of(&parsed).map_err(bad)?;
        let mut connection = Connection::default();
        scrape(&mut connection, &target).await.map_err(bad)?;
        Ok(QueueMetrics {
            url: url.to_string(),
            target,
            connection,
        })
    }

    /// Read the page once a second from `run_start` until `QueueWatch::finish`.
    pub fn watch(self, run_start: Instant) -> QueueWatch {
        let QueueMetrics {
            url,
            target,
            mut connection,
        } = self;
        let (stop, mut stopped) = oneshot::channel();
        let readings = tokio::spawn(async move {
            let tick = Duration::from_secs(1);
            let mut ticks = tokio::time::interval_at((run_start + tick).into(), tick);
            let mut samples = Vec::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => return samples,
                    _ = ticks.tick() => {
                        let second = run_start.elapsed().as_secs();
                        if let Ok(sample) = scrape(&mut connection, &target).await {
                            samples.push(QueueSample { second, ..sample });
                        }
                    }
                }
            }
        });
        QueueWatch {
            url,
            stop,
            readings,
        }
    }
}

/// The queue being read while the load runs.
pub struct QueueWatch {
    url: String,
    stop: oneshot::Sender<()>,
    readings: JoinHandle<Vec<QueueSample>>,
}

impl QueueWatch {
    pub async fn finish(self) -> QueueReport {
        let _ = self.stop.send(());
        let samples = self.readings.await.unwrap_or_default();
        QueueReport {
            url: self.url,
            peak_waiting: samples.iter().map(|s| s.waiting).max().unwrap_or(0),
            peak_lag_seconds: samples.iter().map(|s| s.lag_seconds).fold(0.0, f64::max),
            peak_in_flight: samples.iter().map(|s| s.in_flight).max().unwrap_or(0),
            samples,
        }
    }
}

async fn scrape(connection: &mut Connection, target: &Target) -> Result<QueueSample, String> {
    let (status, body) = connection
        .get(target, SCRAPE_TIMEOUT)
        .await
        .map_err(|outcome| format!("no answer ({})", outcome.label()))?;
    if status != 200 {
        return Err(format!("answered {status}"));
    }
    parse(&String::from_utf8_lossy(&body))
        .ok_or_else(|| "no sluice_queue_* gauges (is the process in queue mode?)".into())
}

/// The queue's gauges in Prometheus text (`sluice_queue_waiting{priority="high"} 3` ...);
/// `None` when there are none.
fn parse(text: &str) -> Option<QueueSample> {
    let mut sample = QueueSample::default();
    let mut found = false;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let name = name.split('{').next().unwrap_or(name);
        let count = value.max(0.0) as u64;
        match name {
            "sluice_queue_waiting" => sample.waiting += count,
            "sluice_queue_delayed" => sample.delayed = count,
            "sluice_queue_in_flight" => sample.in_flight = count,
            "sluice_queue_oldest_waiting_seconds" => sample.lag_seconds = value,
            _ => continue,
        }
        found = true;
    }
    found.then_some(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_queue_gauges() {
        let text = "# TYPE sluice_queue_waiting gauge\n\
            sluice_queue_waiting{priority=\"high\"} 3\n\
            sluice_queue_waiting{priority=\"normal\"} 40\n\
            sluice_queue_waiting{priority=\"low\"} 2\n\
            sluice_queue_delayed 5\n\
            sluice_queue_in_flight 96\n\
            sluice_queue_oldest_waiting_seconds 0.25\n\
            sluice_executions_total{status=\"success\"} 1000\n";
        assert_eq!(
            parse(text),
            Some(QueueSample {
                second: 0,
                waiting: 45,
                delayed: 5,
                in_flight: 96,
                lag_seconds: 0.25,
            })
        );
        assert_eq!(parse("sluice_executions_total 3\n"), None);
    }
}
