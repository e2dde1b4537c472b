//! `sluice queue stats | dlq list | dlq show ID | dlq replay ID|--all | dlq purge`: look at
//! queue mode's queue and its dead-letter queue from the command line (the same as
//! `/api/v1/queue`), with the settings `sluice serve` and `sluice worker` use.

use crate::admin::StoreArgs;
use crate::input::BAD_INPUT;
use clap::{Args, Subcommand};
use sluice_queue::Queue;

#[derive(Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    command: QueueCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Subcommand)]
enum QueueCommand {
    /// Jobs waiting per priority, delayed, in flight and dead; the oldest one's age; jobs/s; and
    /// each worker's status.
    Stats {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The dead-letter queue.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// List dead jobs: id, stalls, failures, died at, error.
    List,
    /// Print one dead job as JSON.
    Show { id: String },
    /// Put a dead job (or all of them) back to work: one that stalled as it is, one that failed
    /// after its retries as a new execution of the same items.
    Replay {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Forget the dead jobs and mark their executions crashed.
    Purge,
}

pub async fn queue(args: QueueArgs) -> u8 {
    let result = async {
        let store = args.store.open().await?;
        let queue = crate::queue_mode::connect(&store).await?;
        let result = run(args.command, &store, queue.as_ref()).await;
        store.close().await;
        result
    }
    .await;
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            BAD_INPUT
        }
    }
}

async fn run(
    command: QueueCommand,
    store: &sluice_store::Store,
    queue: &dyn Queue,
) -> Result<(), String> {
    match command {
        QueueCommand::Stats { json } => {
            let stats = queue.stats().await.map_err(|e| e.to_string())?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&stats).unwrap_or_default()
                );
                return Ok(());
            }
            println!(
                "waiting\thigh {}\tnormal {}\tlow {}",
                stats.waiting_high, stats.waiting_normal, stats.waiting_low
            );
            println!("delayed\t{}", stats.delayed);
            println!("in flight\t{}", stats.in_flight);
            println!("dead\t{}", stats.dead);
            println!(
                "oldest waiting\t{:.1} s",
                stats.oldest_waiting_ms as f64 / 1000.0
            );
            println!("jobs/s\t{:.1}", stats.jobs_per_second);
            for w in &stats.workers {
                println!(
                    "worker {}\t{}\trunning {}/{}\tcompleted {}",
                    w.id, w.state, w.running, w.concurrency, w.completed
                );
            }
        }
        QueueCommand::Dlq { command } => match command {
            DlqCommand::List => {
                for job in queue.dead_jobs().await.map_err(|e| e.to_string())? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        job.id,
                        job.stalls,
                        job.failures,
                        sluice_store::iso(job.dead_at),
                        job.error
                    );
                }
            }
            DlqCommand::Show { id } => {
                let job = queue
                    .dead_job(&id)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("job {id} is not in the dead-letter queue"))?;
                let json = sluice_server::dead_job_json(&job);
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json).unwrap_or_default()
                );
            }
            DlqCommand::Replay { id: Some(id), .. } => {
                let replayed = sluice_server::replay_dead_job(store, queue, &id)
                    .await?
                    .ok_or_else(|| format!("job {id} is not in the dead-letter queue"))?;
                print_replayed(&replayed);
            }
            DlqCommand::Replay { id: None, .. } => {
                for replayed in sluice_server::replay_every_dead_job(store, queue).await? {
                    print_replayed(&replayed);
                }
            }
            DlqCommand::Purge => {
                for id in sluice_server::purge_dead_jobs(store, queue).await? {
                    println!("{id}");
                }
            }
        },
    }
    Ok(())
}

/// One line per replayed job: its id, and the new execution's when it failed for good.
fn print_replayed(replayed: &sluice_server::Replayed) {
    if replayed.execution == replayed.job {
        println!("{}", replayed.job);
    } else {
        println!("{}\tas execution {}", replayed.job, replayed.execution);
    }
}
