//! Which `sluice serve` process runs which execution, so several processes can share one
//! database. A process registers under a new id with its heartbeat interval, refreshes its
//! heartbeat, and stamps the executions it accepts with its id (in the accepting INSERT: the
//! hot path costs nothing more). Running executions are taken over ("claimed") only when their
//! owner is gone: it shut down (it zeroes its heartbeat), its heartbeat is more than
//! [`STALE_HEARTBEATS`] intervals late, or it was this process's own previous life.
//!
//! The previous life is found through slot files in `<data_dir>/processes/`: a process holds a
//! lock (`flock`) on its slot for as long as it lives, so a slot whose lock can be taken belonged
//! to a process that is gone, and the id it names is claimed at once instead of after its
//! heartbeat goes stale (a restarted server recovers its own executions immediately).

use crate::executions::{ExecutionRecord, COLUMNS};
use crate::sql::Val;
use crate::{random_id, Store, StoreError};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

/// A process whose heartbeat is this many intervals late is taken for dead.
pub const STALE_HEARTBEATS: i64 = 3;

/// Whether process row `p` is dead at `$3`: its heartbeat is [`STALE_HEARTBEATS`] (`$2`)
/// intervals late (a process that shut down set it to 0), or it is this process's previous life
/// (`$4`).
const DEAD: &str = "p.heartbeat_at + $2 * p.heartbeat_ms < $3 OR p.id = $4";

/// Slots tried in the data directory (at most this many processes sharing it get one).
const SLOTS: usize = 64;

const REGISTER: &str = "INSERT INTO processes (id, started_at, heartbeat_at, heartbeat_ms) \
                        VALUES ($1, $2, $2, $3) ON CONFLICT (id) DO UPDATE SET \
                        heartbeat_at = excluded.heartbeat_at";

/// This process's registration.
pub(crate) struct Registration {
    pub(crate) id: String,
    /// The process that held this process's slot before (gone, since the slot was free).
    previous: Option<String>,
    heartbeat_ms: i64,
    /// Holds the slot's lock until the store is dropped.
    _slot: Option<File>,
}

/// Take the first free slot in `dir`: write `id` into it and return it, locked, with the id it
/// named before. `None` when every slot is taken or the file system has no locks.
fn take_slot(dir: &Path, id: &str) -> std::io::Result<Option<(File, Option<String>)>> {
    std::fs::create_dir_all(dir)?;
    for n in 0..SLOTS {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(n.to_string()))?;
        match file.try_lock() {
            Ok(()) => {
                let mut previous = String::new();
                file.read_to_string(&mut previous)?;
                file.set_len(0)?;
                file.rewind()?;
                file.write_all(id.as_bytes())?;
                file.sync_all()?;
                let previous = previous.trim();
                return Ok(Some((
                    file,
                    (!previous.is_empty()).then(|| previous.to_string()),
                )));
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                tracing::warn!("process slot {n}: cannot lock it ({e}); going without one");
                return Ok(None);
            }
        }
    }
    Ok(None)
}

impl Store {
    /// Register this process at time `now` (ms) under a new id, heartbeating every
    /// `heartbeat`; executions accepted from now on are stamped with it. Returns the id.
    pub async fn register_process(
        &self,
        heartbeat: Duration,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = format!("{}-{}", std::process::id(), random_id(10));
        let (slot, previous) = match take_slot(&self.config.data_dir.join("processes"), &id)? {
            Some((file, previous)) => (Some(file), previous),
            None => (None, None),
        };
        let heartbeat_ms = (heartbeat.as_millis() as i64).max(1);
        self.db
            .execute(
                REGISTER,
                vec![id.as_str().into(), now.into(), heartbeat_ms.into()],
            )
            .await?;
        *self.process.write().expect("process lock") = Some(Registration {
            id: id.clone(),
            previous,
            heartbeat_ms,
            _slot: slot,
        });
        Ok(id)
    }

    /// This process's id and heartbeat interval (ms); an error before [`Store::register_process`].
    fn registration(&self) -> Result<(String, Option<String>, i64), StoreError> {
        self.process
            .read()
            .expect("process lock")
            .as_ref()
            .map(|r| (r.id.clone(), r.previous.clone(), r.heartbeat_ms))
            .ok_or_else(|| StoreError::Config("this process is not registered".into()))
    }

    /// The id executions accepted now are stamped with (`None` before registration).
    pub(crate) fn process_id(&self) -> Option<String> {
        self.process
            .read()
            .expect("process lock")
            .as_ref()
            .map(|r| r.id.clone())
    }

    /// Refresh this process's heartbeat at `now`. False when its row was gone: another process
    /// took it for dead (and may have claimed its executions); it is registered again.
    pub async fn heartbeat(&self, now: i64) -> Result<bool, StoreError> {
        let (id, _, heartbeat_ms) = self.registration()?;
        let updated = self
            .db
            .execute(
                "UPDATE processes SET heartbeat_at = $1 WHERE id = $2",
                vec![now.into(), id.as_str().into()],
            )
            .await?;
        if updated == 0 {
            self.db
                .execute(REGISTER, vec![id.into(), now.into(), heartbeat_ms.into()])
                .await?;
        }
        Ok(updated > 0)
    }

    /// Mark this process gone (graceful shutdown, after its writes are committed): its
    /// executions that are still running can be claimed by the others at once, and the first
    /// process that looks removes its row.
    pub(crate) async fn deregister_process(&self) -> Result<(), StoreError> {
        let Some(id) = self.process_id() else {
            return Ok(());
        };
        self.db
            .execute(
                "UPDATE processes SET heartbeat_at = 0 WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        Ok(())
    }

    /// Take over, at time `now`, the running executions whose owner is gone (see the module
    /// doc) or unknown, and forget the processes found dead. Each owner's executions are claimed
    /// with a compare-and-set on the owner, so two processes recovering at once never both take
    /// one. Returns them in id order, with their resume data.
    ///
    /// Finding unknown owners reads every running execution, and on Postgres the index entries
    /// of every execution row deleted since the last vacuum with them (120,000 more each minute
    /// at 2,000 executions a second): run it on start and now and then, and
    /// [`Store::claim_executions_of_dead_processes`] in between.
    pub async fn claim_abandoned_executions(
        &self,
        now: i64,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let owners = format!(
            "SELECT DISTINCT e.owner FROM executions e \
             LEFT JOIN processes p ON p.id = e.owner \
             WHERE e.status = 'running' AND (e.owner IS NULL OR e.owner <> $1) \
             AND (p.id IS NULL OR {DEAD})"
        );
        self.claim_executions_of(&owners, now).await
    }

    /// [`Store::claim_abandoned_executions`] for the owners that are known dead (a process
    /// row with a stale heartbeat, one that shut down, or this process's previous life): reads
    /// the few rows of `processes`, and running executions only when one of them died.
    pub async fn claim_executions_of_dead_processes(
        &self,
        now: i64,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let owners = format!("SELECT p.id FROM processes p WHERE p.id <> $1 AND ({DEAD})");
        self.claim_executions_of(&owners, now).await
    }

    /// Claim the running executions of each owner `owners_sql` lists (its parameters: this
    /// process, [`STALE_HEARTBEATS`], `now`, the previous life), then forget the dead processes.
    async fn claim_executions_of(
        &self,
        owners_sql: &str,
        now: i64,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let (id, previous, _) = self.registration()?;
        self.writer.flush().await?;
        let params = || -> Vec<Val> {
            vec![
                id.as_str().into(),
                STALE_HEARTBEATS.into(),
                now.into(),
                previous.as_deref().into(),
            ]
        };
        let owners = self.db.query(owners_sql, params()).await?;
        let mut claimed = Vec::new();
        for owner in owners {
            let owner = owner.into_iter().next().unwrap_or(Val::Null);
            let rows = self
                .db
                .query(
                    &format!(
                        "UPDATE executions SET owner = $1 WHERE status = 'running' \
                         AND owner IS NOT DISTINCT FROM $2 RETURNING {COLUMNS}, data"
                    ),
                    vec![id.as_str().into(), owner],
                )
                .await?;
            for row in rows {
                claimed.push(ExecutionRecord::from_row(row, true)?);
            }
        }
        claimed.sort_by_key(|r| r.id);
        self.db
            .execute(
                &format!(
                    "DELETE FROM processes WHERE id IN (SELECT p.id FROM processes p \
                     WHERE p.id <> $1 AND ({DEAD}))"
                ),
                params(),
            )
            .await?;
        Ok(claimed)
    }
}
