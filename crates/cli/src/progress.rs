//! `sluice run`'s progress lines: on a terminal, one line per node that has run (items in and
//! out, items per second of the node's own time; its spinner turns with each streamed chunk),
//! drawn on stderr by indicatif as the engine reports node runs and streamed chunks
//! ([`sluice_engine::ProgressObserver`]), so a long run shows where it is and how fast it goes.
//! When stderr is not a terminal nothing is drawn, and pipes, logs and tests see the same output
//! as without it.

use indicatif::{HumanCount, MultiProgress, ProgressBar, ProgressStyle};
use sluice_engine::{NodeProgress, ProgressObserver};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The progress lines of one run.
pub struct RunProgress {
    lines: Arc<Mutex<Lines>>,
}

struct Lines {
    bars: MultiProgress,
    style: ProgressStyle,
    nodes: HashMap<String, NodeLine>,
}

/// What one node's line shows: its finished runs, plus the run going on.
struct NodeLine {
    bar: ProgressBar,
    items_in: usize,
    items_out: usize,
    /// Time spent in finished runs.
    busy: Duration,
    /// The run going on: when it started and its chunks so far.
    running: Option<(Instant, usize, usize)>,
    /// A run of the node failed.
    failed: bool,
}

impl RunProgress {
    /// Progress lines for a run, when stderr is a terminal.
    pub fn on_terminal() -> Option<Self> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let style = ProgressStyle::with_template("{spinner:.green} {prefix:.bold}  {msg}")
            .expect("valid template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓");
        Some(RunProgress {
            lines: Arc::new(Mutex::new(Lines {
                bars: MultiProgress::new(),
                style,
                nodes: HashMap::new(),
            })),
        })
    }

    /// The observer to hand the engine.
    pub fn observer(&self) -> ProgressObserver {
        let lines = self.lines.clone();
        ProgressObserver::new(move |progress| {
            lines.lock().expect("progress lines").update(progress);
        })
    }

    /// Leave every line as it ended: a check mark, or a cross where a run of the node failed
    /// or never ended (a streamed chain's sink when a node before it failed).
    pub fn finish(self) {
        let lines = self.lines.lock().expect("progress lines");
        for line in lines.nodes.values() {
            if line.failed || line.running.is_some() {
                line.bar.set_style(lines.style.clone().tick_chars("✗✗"));
                line.bar.abandon();
            } else {
                line.bar.finish();
            }
        }
    }
}

impl Lines {
    fn update(&mut self, progress: NodeProgress<'_>) {
        let now = Instant::now();
        let (NodeProgress::Started { node }
        | NodeProgress::Chunk { node, .. }
        | NodeProgress::Finished { node, .. }) = progress;
        if !self.nodes.contains_key(node) {
            let bar = self.bars.add(ProgressBar::new_spinner());
            bar.set_style(self.style.clone());
            bar.set_prefix(node.to_string());
            let line = NodeLine {
                bar,
                items_in: 0,
                items_out: 0,
                busy: Duration::ZERO,
                running: None,
                failed: false,
            };
            self.nodes.insert(node.to_string(), line);
        }
        let line = self.nodes.get_mut(node).expect("the node's line");
        match progress {
            NodeProgress::Started { .. } => line.running = Some((now, 0, 0)),
            NodeProgress::Chunk {
                items_in,
                items_out,
                ..
            } => {
                let (_, run_in, run_out) = line.running.get_or_insert((now, 0, 0));
                *run_in += items_in;
                *run_out += items_out;
                line.bar.tick();
            }
            NodeProgress::Finished {
                items_in,
                items_out,
                success,
                ..
            } => {
                if let Some((started, _, _)) = line.running.take() {
                    line.busy += now - started;
                }
                line.items_in += items_in;
                line.items_out += items_out;
                line.failed |= !success;
            }
        }
        line.bar.set_message(line.describe(now));
    }
}

impl NodeLine {
    /// `1,200 in, 1,180 out, 53,410 items/s`, after `running: ` while a run goes on.
    fn describe(&self, now: Instant) -> String {
        let (mut items_in, mut items_out, mut busy) = (self.items_in, self.items_out, self.busy);
        let mut text = String::new();
        if let Some((started, run_in, run_out)) = self.running {
            items_in += run_in;
            items_out += run_out;
            busy += now - started;
            text.push_str("running: ");
        }
        text += &format!(
            "{} in, {} out",
            HumanCount(items_in as u64),
            HumanCount(items_out as u64)
        );
        // A node's pace is the larger side: a filter reads more than it writes, a file reader
        // the reverse.
        let seconds = busy.as_secs_f64();
        if seconds >= 0.001 {
            let rate = items_in.max(items_out) as f64 / seconds;
            text.push_str(&format!(", {} items/s", HumanCount(rate as u64)));
        }
        text
    }
}
