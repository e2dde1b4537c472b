//! Sending the load over keep-alive HTTP/1.1 connections (one request at a time on each, see
//! `connection`), in an open loop (fixed send times; latency counts from the time a request was
//! due, so a slow server cannot hide its stalls by delaying our sends: no coordinated omission)
//! or a closed loop (N workers, each waiting for its answer). Every answer becomes a `Sample`
//! for the recorder.

use super::connection::{Connection, Target};
use super::plan::{Mode, Plan};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Status(u16),
    Timeout,
    ConnectError,
    OtherError,
}

impl Outcome {
    /// A status of 400 or more, or no answer at all.
    pub fn is_error(self) -> bool {
        !matches!(self, Outcome::Status(status) if status < 400)
    }

    /// The status code, or what went wrong, as the report names it.
    pub fn label(self) -> String {
        match self {
            Outcome::Status(status) => status.to_string(),
            Outcome::Timeout => "timeout".into(),
            Outcome::ConnectError => "connect error".into(),
            Outcome::OtherError => "other error".into(),
        }
    }
}

/// One answered (or failed) request.
pub struct Sample {
    /// When it ended, since the start of the run.
    pub ended_after: Duration,
    /// From the time it was due (open loop) or sent (closed loop) to its end.
    pub latency: Duration,
    pub outcome: Outcome,
}

impl Sample {
    fn ended_now(run_start: Instant, due: Instant, outcome: Outcome) -> Sample {
        let now = Instant::now();
        Sample {
            ended_after: now - run_start,
            latency: now - due,
            outcome,
        }
    }
}

/// Start sending `plan`'s load from `run_start`; samples go to `samples`, which closes when the
/// last request has ended.
pub fn start(
    plan: Arc<Plan>,
    run_start: Instant,
    samples: UnboundedSender<Sample>,
) -> Result<(), String> {
    let target = Arc::new(Target::of(&plan.url)?);
    match plan.mode {
        Mode::Open { rate, connections } => {
            tokio::spawn(open_loop(
                target,
                plan,
                rate,
                connections,
                run_start,
                samples,
            ));
        }
        Mode::Closed { connections } => closed_loop(target, plan, connections, run_start, samples),
    }
    Ok(())
}

async fn open_loop(
    target: Arc<Target>,
    plan: Arc<Plan>,
    rate: f64,
    connections: usize,
    run_start: Instant,
    samples: UnboundedSender<Sample>,
) {
    // A request takes a free connection from `free` (waiting while all are busy) and hands it
    // back when its answer is in.
    let (free_tx, mut free) = unbounded_channel();
    for _ in 0..connections {
        let _ = free_tx.send(Connection::default());
    }
    let mut rng = fastrand::Rng::new();
    for index in 0..Plan::open_loop_requests(rate, plan.duration) {
        let due = run_start + Duration::from_secs_f64(index as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let mut connection = free
            .recv()
            .await
            .expect("this loop holds a sender: the channel stays open");
        let body = plan.body.render(index + 1, &mut rng);
        let (target, plan, samples, free_tx) = (
            target.clone(),
            plan.clone(),
            samples.clone(),
            free_tx.clone(),
        );
        tokio::spawn(async move {
            let outcome = connection.send(&target, &plan, body).await;
            let _ = free_tx.send(connection);
            let _ = samples.send(Sample::ended_now(run_start, due, outcome));
        });
    }
}

fn closed_loop(
    target: Arc<Target>,
    plan: Arc<Plan>,
    connections: usize,
    run_start: Instant,
    samples: UnboundedSender<Sample>,
) {
    let deadline = run_start + plan.duration;
    let sent = Arc::new(AtomicU64::new(0));
    for _ in 0..connections {
        let (target, plan, samples, sent) =
            (target.clone(), plan.clone(), samples.clone(), sent.clone());
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::new();
            let mut connection = Connection::default();
            while Instant::now() < deadline {
                let body = plan
                    .body
                    .render(sent.fetch_add(1, Ordering::Relaxed) + 1, &mut rng);
                let started = Instant::now();
                let outcome = connection.send(&target, &plan, body).await;
                let _ = samples.send(Sample::ended_now(run_start, started, outcome));
            }
        });
    }
}
