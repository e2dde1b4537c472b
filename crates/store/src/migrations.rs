//! The schema, as numbered migrations applied on start (the same tables on SQLite and Postgres;
//! only the binary column type is spelled differently).

use crate::sql::{Db, Dialect};
use crate::StoreError;

/// Each migration is a list of statements run in one transaction. Never edit a released one;
/// append a new one.
const MIGRATIONS: &[&[&str]] = &[
    &[
    "CREATE TABLE workflows (id TEXT PRIMARY KEY, name TEXT NOT NULL, active BIGINT NOT NULL DEFAULT 0, \
     data TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE TABLE executions (id BIGINT PRIMARY KEY, workflow_id TEXT NOT NULL, mode TEXT NOT NULL, \
     status TEXT NOT NULL, retry_of BIGINT, started_at BIGINT NOT NULL, stopped_at BIGINT, data {blob})",
    "CREATE INDEX executions_by_workflow ON executions (workflow_id, id)",
    "CREATE INDEX executions_by_status ON executions (status, id)",
    "CREATE INDEX executions_by_stop ON executions (stopped_at)",
    "CREATE TABLE credentials (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, \
     data {blob} NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE TABLE api_keys (key_hash TEXT PRIMARY KEY, label TEXT NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE sequences (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL)",
    "INSERT INTO sequences (name, next_value) VALUES ('executions', 1)",
    "CREATE TABLE schedule_leases (lease_key TEXT NOT NULL, tick BIGINT NOT NULL, owner TEXT NOT NULL, \
     PRIMARY KEY (lease_key, tick))",
    ],
    // Workflow static data (n8n's `staticData`), JSON text; NULL = never saved.
    &["ALTER TABLE workflows ADD COLUMN static_data TEXT"],
    // Process ownership: the `sluice serve` process running each execution (NULL = none, e.g.
    // accepted before this migration), the processes alive with their heartbeat, and a version
    // of the active workflows that every change to them bumps.
    &[
        "ALTER TABLE executions ADD COLUMN owner TEXT",
        "CREATE TABLE processes (id TEXT PRIMARY KEY, started_at BIGINT NOT NULL, \
         heartbeat_at BIGINT NOT NULL, heartbeat_ms BIGINT NOT NULL)",
        "INSERT INTO sequences (name, next_value) VALUES ('workflows', 1)",
    ],
    // The embedded job queue (`sluice-queue`): jobs with their state (waiting, active, done,
    // dead, canceled) and lease, deduplication keys, and the workers' reports.
    &[
        "CREATE TABLE queue_jobs (id TEXT PRIMARY KEY, payload TEXT NOT NULL, \
         job_rank BIGINT NOT NULL, score BIGINT NOT NULL, seq BIGINT NOT NULL, \
         ready_at BIGINT NOT NULL, enqueued_at BIGINT NOT NULL, state TEXT NOT NULL, \
         worker TEXT, lease_until BIGINT, token BIGINT NOT NULL DEFAULT 0, \
         stalls BIGINT NOT NULL DEFAULT 0, failures BIGINT NOT NULL DEFAULT 0, result TEXT, \
         error TEXT, finished_at BIGINT)",
        "CREATE INDEX queue_jobs_by_order ON queue_jobs (state, score, seq)",
        "CREATE TABLE queue_dedup (dedup_key TEXT PRIMARY KEY, job_id TEXT NOT NULL, \
         expires_at BIGINT NOT NULL)",
        "CREATE TABLE queue_workers (id TEXT PRIMARY KEY, seen_at BIGINT NOT NULL, \
         status TEXT NOT NULL)",
    ],
    // An execution's custom data (n8n's `customData`, set by Execution Data nodes): a JSON
    // object of strings; NULL = none.
    &["ALTER TABLE executions ADD COLUMN custom_data TEXT"],
];

pub async fn run(db: &dyn Db) -> Result<(), StoreError> {
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)",
        vec![],
    )
    .await?;
    let applied = db
        .query(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            vec![],
        )
        .await?
        .first()
        .and_then(|r| r[0].int())
        .unwrap_or(0);
    let blob = match db.dialect() {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    for (i, statements) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= applied {
            continue;
        }
        let mut stmts: Vec<String> = statements
            .iter()
            .map(|s| s.replace("{blob}", blob))
            .collect();
        stmts.push(format!(
            "INSERT INTO schema_migrations (version) VALUES ({version})"
        ));
        db.migrate(stmts).await?;
    }
    Ok(())
}
