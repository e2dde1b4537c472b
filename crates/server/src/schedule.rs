//! Runs Schedule Trigger and Cron nodes of active workflows: sleeps until the next tick of any
//! rule, claims the tick in the store (so each tick runs once however many processes share the
//! store) and starts the execution.

use crate::app::{App, Start};
use chrono::{DateTime, Utc};
use croner::Cron;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A tick and the (workflow id, node) pairs due at it.
type Due = (DateTime<Utc>, Vec<(String, String)>);

/// The next tick after `after` among the active schedules.
fn next_tick(app: &App, after: DateTime<Utc>) -> Option<Due> {
    let routes = app.routes();
    let mut best: Option<Due> = None;
    for target in &routes.schedules {
        for expr in &target.cron {
            let Ok(cron) = Cron::from_str(expr) else {
                tracing::error!("workflow {}: invalid cron '{expr}'", target.workflow.id);
                continue;
            };
            let Ok(at) = cron.find_next_occurrence(&after, false) else {
                continue;
            };
            let due = (target.workflow.id.clone(), target.node.clone());
            match &mut best {
                Some((b, list)) if at == *b => list.push(due),
                Some((b, _)) if at > *b => {}
                _ => best = Some((at, vec![due])),
            }
        }
    }
    best
}

/// The scheduler loop (until the task is dropped).
pub async fn run(app: Arc<App>) {
    let owner = format!("{}-{}", std::process::id(), sluice_store::now_ms());
    let mut after = Utc::now();
    loop {
        let changed = app.routes_changed.notified();
        let Some((at, due)) = next_tick(&app, after) else {
            changed.await;
            after = Utc::now();
            continue;
        };
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = changed => { after = Utc::now(); continue; }
        }
        after = at;
        for (workflow_id, node) in due {
            fire(&app, &owner, &workflow_id, node, at).await;
        }
    }
}

/// Claim the tick and start the execution from `node`.
async fn fire(app: &Arc<App>, owner: &str, workflow_id: &str, node: String, at: DateTime<Utc>) {
    let key = format!("{workflow_id}:{node}");
    match app
        .store
        .try_lease(&key, at.timestamp_millis(), owner)
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!("schedule {key}: cannot claim tick: {e}");
            return;
        }
    }
    let Some(wf) = app.routes().workflow(workflow_id) else {
        return;
    };
    let timezone = wf
        .compiled
        .workflow()
        .settings
        .timezone
        .clone()
        .unwrap_or_else(|| "UTC".into());
    let local = timezone
        .parse::<chrono_tz::Tz>()
        .map(|tz| at.with_timezone(&tz).fixed_offset())
        .unwrap_or_else(|_| at.fixed_offset());
    let start = Start {
        mode: "trigger",
        start_node: Some(node),
        items: vec![sluice_nodes::trigger::schedule::tick_item(
            &local, &timezone,
        )],
        resumable: true,
        retry_of: None,
        existing_id: None,
    };
    if let Err(e) = app.start(wf, start).await {
        tracing::error!("schedule {key}: {}", e.message);
    }
}
