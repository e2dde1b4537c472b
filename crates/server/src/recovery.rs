//! Crash recovery when several `sluice serve` processes may share one database: this process
//! registers itself in the store and heartbeats, and takes over only the executions of processes
//! that are gone (its own previous life, a process that shut down, or one whose heartbeat is
//! stale; see [`sluice_store::Store::claim_abandoned_executions`]), on start and then at every
//! heartbeat, so executions of a process that dies are recovered by one that lives. A taken-over
//! execution is run again under its id when it was accepted with what a restart needs, and marked
//! crashed otherwise.

use crate::app::{App, Start, StartId};
use crate::error::ApiError;
use sluice_model::Item;
use sluice_store::{now_ms, ExecutionRecord};
use std::sync::Arc;

/// Register this process in the store (before it accepts any execution).
pub async fn register(app: &App) -> Result<(), ApiError> {
    let id = app
        .store
        .register_process(app.config.heartbeat_interval, now_ms())
        .await?;
    tracing::info!("registered as process {id}");
    Ok(())
}

/// How often the watch looks for executions of unknown owners too (every this many heartbeats;
/// in between, only for those of processes known dead).
const UNKNOWN_OWNERS_EVERY: u32 = 12;

/// Which executions [`recover`] takes over.
#[derive(Clone, Copy)]
pub enum Abandoned {
    /// Those of processes known dead and of unknown owners.
    All,
    /// Those of processes known dead (see [`sluice_store::Store::claim_executions_of_dead_processes`]).
    OfDeadProcesses,
}

/// Take over abandoned executions now. Returns (resumed, crashed).
pub async fn recover(app: &Arc<App>, which: Abandoned) -> Result<(usize, usize), ApiError> {
    let (mut resumed, mut crashed) = (0, 0);
    let claimed = match which {
        Abandoned::All => app.store.claim_abandoned_executions(now_ms()).await?,
        Abandoned::OfDeadProcesses => {
            app.store
                .claim_executions_of_dead_processes(now_ms())
                .await?
        }
    };
    // Once claimed, an execution is this process's to finish: one that fails to start again is
    // marked crashed, and one failure does not leave the others unhandled.
    for record in claimed {
        match resume(app, &record).await {
            Ok(true) => {
                resumed += 1;
                continue;
            }
            Ok(false) => {}
            Err(e) => tracing::error!(
                "execution {}: cannot run it again: {}",
                record.id,
                e.message
            ),
        }
        match app.store.mark_crashed(record.id).await {
            Ok(()) => crashed += 1,
            Err(e) => tracing::error!("execution {}: cannot mark it crashed: {e}", record.id),
        }
    }
    if resumed + crashed > 0 {
        tracing::warn!(
            "recovered interrupted executions: {resumed} resumed, {crashed} marked crashed"
        );
    }
    Ok((resumed, crashed))
}

/// Run `record` again under its id if it can be; false if it cannot.
async fn resume(app: &Arc<App>, record: &ExecutionRecord) -> Result<bool, ApiError> {
    if !app.config.resume_on_start {
        return Ok(false);
    }
    let resume = record.data.as_ref().map(|d| &d["resume"]);
    let Some(items) =
        resume.and_then(|r| serde_json::from_value::<Vec<Item>>(r["items"].clone()).ok())
    else {
        return Ok(false);
    };
    let Ok(wf) = app.load(&record.workflow_id).await else {
        return Ok(false);
    };
    let start = Start {
        mode: mode_name(&record.mode),
        start_node: resume.and_then(|r| r["startNode"].as_str().map(String::from)),
        items,
        resumable: true,
        retry_of: None,
        id: StartId::Accepted(record.id),
        priority: None,
        whole_last_output: false,
    };
    app.start(wf, start).await?;
    Ok(true)
}

/// The static mode names executions are started with.
pub(crate) fn mode_name(mode: &str) -> &'static str {
    match mode {
        "webhook" => "webhook",
        "trigger" => "trigger",
        "manual" => "manual",
        "retry" => "retry",
        "error" => "error",
        _ => "integrated",
    }
}

/// Refresh this process's heartbeat every interval (until the task is dropped, which `serve`
/// does only after the last execution ended or the shutdown timeout passed).
pub async fn heartbeat(app: Arc<App>) {
    loop {
        tokio::time::sleep(app.config.heartbeat_interval).await;
        match app.store.heartbeat(now_ms()).await {
            Ok(true) => {}
            Ok(false) => tracing::error!(
                "this process's heartbeat was late and other processes took it for dead: \
                 they may have taken over executions it is still running"
            ),
            Err(e) => tracing::error!("heartbeat: {e}"),
        }
    }
}

/// Take over the executions of processes that died, every heartbeat interval (until the task
/// is dropped); those of unknown owners every [`UNKNOWN_OWNERS_EVERY`] intervals.
pub async fn watch(app: Arc<App>) {
    for beat in 1u32.. {
        tokio::time::sleep(app.config.heartbeat_interval).await;
        let which = if beat % UNKNOWN_OWNERS_EVERY == 0 {
            Abandoned::All
        } else {
            Abandoned::OfDeadProcesses
        };
        if let Err(e) = recover(&app, which).await {
            tracing::error!("recovering executions of dead processes: {}", e.message);
        }
    }
}
