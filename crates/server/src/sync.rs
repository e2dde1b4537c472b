//! Picks up workflow changes made outside this process (another `sluice serve` sharing the
//! database, `sluice workflow import --activate`): every sync interval it reads the store's
//! workflows version, one small query, and rebuilds the routes only when it moved. Works the
//! same on SQLite and Postgres.

use crate::app::App;
use std::sync::Arc;

/// Poll until the task is dropped; `seen` is the version the current routes were built from
/// (read before building them, so a change in between is picked up).
pub async fn run(app: Arc<App>, mut seen: i64) {
    loop {
        tokio::time::sleep(app.config.workflow_sync_interval).await;
        let version = match app.store.workflows_version().await {
            Ok(version) => version,
            Err(e) => {
                tracing::error!("checking for workflow changes: {e}");
                continue;
            }
        };
        if version == seen {
            continue;
        }
        // A failed reload is tried again at the next interval.
        match app.reload().await {
            Ok(()) => seen = version,
            Err(e) => tracing::error!("reloading changed workflows: {}", e.message),
        }
    }
}
