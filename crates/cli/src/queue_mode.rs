//! Queue mode's settings for `sluice serve`, `sluice worker` and `sluice queue`:
//! `EXECUTIONS_MODE=queue`, and the Redis queue from n8n's `QUEUE_BULL_*` variables (or
//! `SLUICE_REDIS_URL`). Queue mode needs a store every process can share, so SQLite is refused
//! up front, and so is a Redis that does not answer: a clear error, never a hang.

use sluice_queue::{Queue, QueueConfig, RedisConfig, RedisQueue};
use sluice_store::{Backend, Store};
use std::sync::Arc;

/// True when `EXECUTIONS_MODE` is `queue` (n8n's other value, `regular`, is the default).
pub fn enabled() -> Result<bool, String> {
    match std::env::var("EXECUTIONS_MODE").as_deref() {
        Err(_) | Ok("regular" | "") => Ok(false),
        Ok("queue") => Ok(true),
        Ok(other) => Err(format!(
            "EXECUTIONS_MODE: expected 'regular' or 'queue', not '{other}'"
        )),
    }
}

/// The Redis queue, after checking that the store can be shared.
pub async fn connect(store: &Store) -> Result<Arc<dyn Queue>, String> {
    if let Backend::Sqlite(_) = store.config().backend {
        return Err(
            "queue mode needs Postgres (DB_TYPE=postgresdb): the main process and the \
                    workers share the store, and SQLite cannot be shared between hosts"
                .into(),
        );
    }
    // `QUEUE_BULL_REDIS_TLS`: rustls needs its crypto provider before the first connection.
    sluice_runtime::tls::use_ring_provider();
    let lookup = |name: &str| std::env::var(name).ok();
    let redis = RedisConfig::from_lookup(lookup)?;
    let config = QueueConfig::from_lookup(lookup).map_err(|e| e.to_string())?;
    let queue = RedisQueue::connect(&redis, config)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(queue))
}
