//! Executions: ids, reads (listed with filters and cursor pagination), crash marks and pruning by
//! age and count. Run data is stored as LZ4-compressed JSON; when rows are written is
//! `execution_row`'s business.

use crate::sql::{Row, Stmt, Val};
use crate::{decode_cursor, encode_cursor, iso, now_ms, Page, Store, StoreError};
use serde_json::Value;

/// Ids are taken from the `sequences` table this many at a time.
const ID_BLOCK: i64 = 100;

#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionRecord {
    pub id: i64,
    pub workflow_id: String,
    pub mode: String,
    /// `running`, `success`, `error`, `crashed`, `canceled`.
    pub status: String,
    pub retry_of: Option<i64>,
    pub started_at: i64,
    pub stopped_at: Option<i64>,
    /// n8n's `customData`: key/value strings the execution's nodes saved (Execution Data).
    pub custom_data: serde_json::Map<String, Value>,
    /// Run data (`{resultData: ...}`) once finished; while running, what is needed to start
    /// it again (`{resume: ...}`) if it was accepted that way. Only loaded on request.
    pub data: Option<Value>,
}

impl ExecutionRecord {
    /// The execution in the public API's shape.
    pub fn to_json(&self) -> Value {
        let mut json = serde_json::json!({
            "id": self.id.to_string(),
            "finished": self.status == "success",
            "mode": self.mode,
            "retryOf": self.retry_of.map(|r| r.to_string()),
            "retrySuccessId": null,
            "startedAt": iso(self.started_at),
            "stoppedAt": self.stopped_at.map(iso),
            "workflowId": self.workflow_id,
            "waitTill": null,
            "status": self.status,
            "customData": self.custom_data,
        });
        if let Some(data) = &self.data {
            json["data"] = data.clone();
        }
        json
    }

    pub(crate) fn from_row(row: Row, with_data: bool) -> Result<Self, StoreError> {
        let mut it = row.into_iter();
        let mut next = || it.next().unwrap_or(Val::Null);
        let mut record = ExecutionRecord {
            id: next().int().unwrap_or(0),
            workflow_id: next().into_text().unwrap_or_default(),
            mode: next().into_text().unwrap_or_default(),
            status: next().into_text().unwrap_or_default(),
            retry_of: next().int(),
            started_at: next().int().unwrap_or(0),
            stopped_at: next().int(),
            custom_data: next()
                .into_text()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
            data: None,
        };
        if with_data {
            record.data = next()
                .into_bytes()
                .map(|b| decompress(record.id, &b))
                .transpose()?;
        }
        Ok(record)
    }
}

/// An execution about to start.
#[derive(Clone, Debug)]
pub struct NewExecution {
    pub workflow_id: String,
    pub mode: String,
    pub retry_of: Option<i64>,
    /// What a restart needs to run it again after a crash (`{items, startNode}`: the webhook's
    /// items), as JSON text written straight from the items; `None` when it cannot be resumed.
    pub resume: Option<Box<serde_json::value::RawValue>>,
}

/// How an execution ended.
#[derive(Clone, Debug)]
pub struct Finished {
    pub status: String,
    /// The run data document (n8n's `{resultData, status}`) as JSON text (empty when not kept).
    pub data_json: String,
    /// False when the saving policy says to drop it.
    pub keep: bool,
    /// n8n's `customData` (empty: none).
    pub custom_data: serde_json::Map<String, Value>,
}

impl Finished {
    /// The `custom_data` column: JSON text, NULL when there is none.
    pub(crate) fn custom_data_column(&self) -> Option<String> {
        (!self.custom_data.is_empty()).then(|| Value::Object(self.custom_data.clone()).to_string())
    }
}

#[derive(Clone, Debug, Default)]
pub struct ExecutionFilter {
    pub status: Option<String>,
    pub workflow_id: Option<String>,
}

impl ExecutionFilter {
    fn sql(&self, params: &mut Vec<Val>) -> String {
        let mut sql = String::from(" WHERE 1 = 1");
        if let Some(status) = &self.status {
            params.push(status.as_str().into());
            sql += &format!(" AND status = ${}", params.len());
        }
        if let Some(wf) = &self.workflow_id {
            params.push(wf.as_str().into());
            sql += &format!(" AND workflow_id = ${}", params.len());
        }
        sql
    }
}

pub(crate) const COLUMNS: &str =
    "id, workflow_id, mode, status, retry_of, started_at, stopped_at, custom_data";

pub(crate) fn compress(json_text: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(json_text.as_bytes())
}

/// The `data` column of an execution not yet run: `{"resume": ...}`, compressed.
pub(crate) fn resume_column(new: &NewExecution) -> Option<Vec<u8>> {
    new.resume
        .as_ref()
        .map(|r| compress(&format!("{{\"resume\":{}}}", r.get())))
}

fn decompress(id: i64, bytes: &[u8]) -> Result<Value, StoreError> {
    let plain = lz4_flex::decompress_size_prepended(bytes)
        .map_err(|e| StoreError::Corrupt(format!("execution {id}: {e}")))?;
    serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("execution {id}: {e}")))
}

impl Store {
    /// A fresh execution id (taken from a block this process reserved); for an execution whose
    /// row another process writes, see [`Store::defer_reserved`].
    pub async fn reserve_execution_id(&self) -> Result<i64, StoreError> {
        let mut ids = self.ids.lock().await;
        if ids.is_empty() {
            let end = self
                .db
                .query(
                    "UPDATE sequences SET next_value = next_value + $1 WHERE name = 'executions' \
                     RETURNING next_value",
                    vec![ID_BLOCK.into()],
                )
                .await?
                .first()
                .and_then(|r| r[0].int())
                .ok_or_else(|| StoreError::Corrupt("execution id sequence missing".into()))?;
            *ids = end - ID_BLOCK..end;
        }
        Ok(ids.next().expect("non-empty id block"))
    }

    /// Mark an execution that can no longer finish as crashed (waits for the commit); one that
    /// ended already keeps how it ended.
    pub async fn mark_crashed(&self, id: i64) -> Result<(), StoreError> {
        self.writer
            .commit(vec![Stmt::new(
                "UPDATE executions SET status = 'crashed', stopped_at = $1 \
                 WHERE id = $2 AND stopped_at IS NULL",
                vec![now_ms().into(), id.into()],
            )])
            .await
    }

    /// [`Store::mark_crashed`] for an execution whose row may not be written yet (a queue job
    /// whose worker was to write it, see [`Store::defer_reserved`]): then the crashed row is
    /// written from `new`, its start kept for a replay.
    pub async fn mark_crashed_or_record(
        &self,
        id: i64,
        new: NewExecution,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.writer
            .commit(vec![Stmt::new(
                "INSERT INTO executions \
                 (id, workflow_id, mode, status, retry_of, started_at, stopped_at, data) \
                 VALUES ($1, $2, $3, 'crashed', $4, $5, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET status = 'crashed', stopped_at = $5 \
                 WHERE executions.stopped_at IS NULL",
                vec![
                    id.into(),
                    new.workflow_id.as_str().into(),
                    new.mode.as_str().into(),
                    new.retry_of.into(),
                    now.into(),
                    resume_column(&new).into(),
                ],
            )])
            .await
    }

    /// Put a crashed execution back to running, for a queue-mode job that was dead-lettered
    /// after its workers kept dying and is now replayed as it was. False when the execution is
    /// not crashed (it ended otherwise, or never was marked).
    pub async fn reopen_crashed(&self, id: i64) -> Result<bool, StoreError> {
        self.writer.flush().await?;
        let reopened = self
            .db
            .execute(
                "UPDATE executions SET status = 'running', stopped_at = NULL \
                 WHERE id = $1 AND status = 'crashed'",
                vec![id.into()],
            )
            .await?;
        Ok(reopened == 1)
    }

    pub async fn get_execution(
        &self,
        id: i64,
        include_data: bool,
    ) -> Result<Option<ExecutionRecord>, StoreError> {
        self.writer.flush().await?;
        let data = if include_data { ", data" } else { "" };
        let rows = self
            .db
            .query(
                &format!("SELECT {COLUMNS}{data} FROM executions WHERE id = $1"),
                vec![id.into()],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|r| ExecutionRecord::from_row(r, include_data))
            .transpose()
    }

    /// Newest first, `limit` per page.
    pub async fn list_executions(
        &self,
        filter: &ExecutionFilter,
        cursor: Option<&str>,
        limit: usize,
        include_data: bool,
    ) -> Result<Page<ExecutionRecord>, StoreError> {
        self.writer.flush().await?;
        let mut params = Vec::new();
        let mut sql = format!(
            "SELECT {COLUMNS}{} FROM executions{}",
            if include_data { ", data" } else { "" },
            filter.sql(&mut params)
        );
        if let Some(before) = cursor
            .and_then(decode_cursor)
            .and_then(|c| c.parse::<i64>().ok())
        {
            params.push(before.into());
            sql += &format!(" AND id < ${}", params.len());
        }
        params.push((limit as i64 + 1).into());
        sql += &format!(" ORDER BY id DESC LIMIT ${}", params.len());
        let mut data = self
            .db
            .query(&sql, params)
            .await?
            .into_iter()
            .map(|r| ExecutionRecord::from_row(r, include_data))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = (data.len() > limit).then(|| {
            data.truncate(limit);
            encode_cursor(&data[limit - 1].id.to_string())
        });
        Ok(Page { data, next_cursor })
    }

    pub async fn count_executions(&self, filter: &ExecutionFilter) -> Result<u64, StoreError> {
        self.writer.flush().await?;
        let mut params = Vec::new();
        let sql = format!("SELECT COUNT(*) FROM executions{}", filter.sql(&mut params));
        let rows = self.db.query(&sql, params).await?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0) as u64)
    }

    /// True when it existed.
    pub async fn delete_execution(&self, id: i64) -> Result<bool, StoreError> {
        self.writer.flush().await?;
        Ok(self
            .db
            .execute("DELETE FROM executions WHERE id = $1", vec![id.into()])
            .await?
            > 0)
    }

    /// Apply the pruning policy at time `now` (ms): drop finished executions older than the
    /// maximum age and beyond the maximum count, and schedule leases older than a day.
    /// Executions go at most [`PruningPolicy::batch_rows`](crate::PruningPolicy) per
    /// statement, each its own transaction. Returns the number of executions deleted.
    pub async fn prune(&self, now: i64) -> Result<u64, StoreError> {
        let policy = &self.config.pruning;
        if !policy.enabled {
            return Ok(0);
        }
        self.writer.flush().await?;
        self.db
            .execute(
                "DELETE FROM schedule_leases WHERE tick < $1",
                vec![(now - 86_400_000).into()],
            )
            .await?;
        let cutoff = now - (policy.max_age_hours as i64) * 3_600_000;
        let mut deleted = self
            .delete_finished("stopped_at", "<", cutoff, policy.batch_rows)
            .await?;
        if policy.max_count > 0 {
            let newest_to_drop = self
                .db
                .query(
                    "SELECT id FROM executions WHERE stopped_at IS NOT NULL \
                     ORDER BY id DESC LIMIT 1 OFFSET $1",
                    vec![(policy.max_count as i64).into()],
                )
                .await?
                .first()
                .and_then(|row| row[0].int());
            if let Some(id) = newest_to_drop {
                deleted += self
                    .delete_finished("id", "<=", id, policy.batch_rows)
                    .await?;
            }
        }
        Ok(deleted)
    }

    /// Delete finished executions whose indexed `column` compares (`operator`) to `value`,
    /// `batch` at a time, in that column's order: each statement walks that index from its
    /// start, so one that finds nothing to delete reads next to nothing (in `id` order, the age
    /// cut-off read every execution row, deleted ones included on Postgres until a vacuum).
    async fn delete_finished(
        &self,
        column: &str,
        operator: &str,
        value: i64,
        batch: u64,
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "DELETE FROM executions WHERE id IN (SELECT id FROM executions \
             WHERE stopped_at IS NOT NULL AND {column} {operator} $1 ORDER BY {column} LIMIT $2)"
        );
        let batch = batch.max(1);
        let mut deleted = 0;
        loop {
            let n = self
                .db
                .execute(&sql, vec![value.into(), (batch as i64).into()])
                .await?;
            deleted += n;
            if n < batch {
                return Ok(deleted);
            }
            // Let the execution writes waiting for the database go first.
            tokio::task::yield_now().await;
        }
    }

    /// Claim the tick `tick` (ms) of schedule `key`: true for exactly one caller across all
    /// processes sharing this store.
    pub async fn try_lease(&self, key: &str, tick: i64, owner: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .execute(
                "INSERT INTO schedule_leases (lease_key, tick, owner) VALUES ($1, $2, $3) \
                 ON CONFLICT (lease_key, tick) DO NOTHING",
                vec![key.into(), tick.into(), owner.into()],
            )
            .await?
            == 1)
    }
}
