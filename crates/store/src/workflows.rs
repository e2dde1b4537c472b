//! Workflows: the n8n JSON exactly as given, plus id, name, active flag and timestamps in
//! columns (the API merges them back into the JSON).

use crate::sql::{Row, Stmt, Val};
use crate::{decode_cursor, encode_cursor, iso, now_ms, random_id, Page, Store, StoreError};
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct WorkflowRecord {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The workflow JSON as it was saved.
    pub data: Value,
}

impl WorkflowRecord {
    /// The workflow in the public API's shape: the saved JSON with id, name, active and
    /// timestamps filled in.
    pub fn to_json(&self) -> Value {
        let mut json = match &self.data {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        json.insert("id".into(), self.id.clone().into());
        json.insert("name".into(), self.name.clone().into());
        json.insert("active".into(), self.active.into());
        json.insert("createdAt".into(), iso(self.created_at).into());
        json.insert("updatedAt".into(), iso(self.updated_at).into());
        Value::Object(json)
    }

    fn from_row(row: Row) -> Result<Self, StoreError> {
        let mut it = row.into_iter();
        let mut next = || it.next().unwrap_or(Val::Null);
        let id = next().into_text().unwrap_or_default();
        let name = next().into_text().unwrap_or_default();
        let active = next().int() == Some(1);
        let data = next().into_text().unwrap_or_default();
        let data = serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("workflow {id}: {e}")))?;
        Ok(WorkflowRecord {
            id,
            name,
            active,
            created_at: next().int().unwrap_or(0),
            updated_at: next().int().unwrap_or(0),
            data,
        })
    }
}

#[derive(Clone, Debug, Default)]
pub struct WorkflowFilter {
    pub active: Option<bool>,
    pub name: Option<String>,
    /// Workflows with any of these tags (by name); none: every workflow.
    pub tags: Vec<String>,
}

impl WorkflowFilter {
    /// Whether `record` has one of the filter's tags (any record when it names none). A tag is
    /// a name or an object with a `name`, as n8n exports them.
    fn tags_match(&self, record: &WorkflowRecord) -> bool {
        if self.tags.is_empty() {
            return true;
        }
        record.data["tags"].as_array().is_some_and(|tags| {
            tags.iter().any(|tag| {
                let name = tag.as_str().or_else(|| tag["name"].as_str());
                name.is_some_and(|name| self.tags.iter().any(|t| t == name))
            })
        })
    }
}

const COLUMNS: &str = "id, name, active, data, created_at, updated_at";

/// Bumps the active workflows' version (see [`Store::workflows_version`]).
const BUMP_VERSION: &str =
    "UPDATE sequences SET next_value = next_value + 1 WHERE name = 'workflows'";

fn bump_version() -> Stmt {
    Stmt::new(BUMP_VERSION, vec![])
}

impl Store {
    /// Save a workflow: insert it (inactive) under `id`, or a new id when `None`; replace the
    /// JSON of an existing one (keeping its active flag and creation time).
    pub async fn put_workflow(
        &self,
        id: Option<&str>,
        data: Value,
    ) -> Result<WorkflowRecord, StoreError> {
        let id = id.map_or_else(|| random_id(16), str::to_string);
        let name = data["name"].as_str().unwrap_or_default().to_string();
        let now = now_ms();
        self.db
            .transaction(vec![
                Stmt::new(
                    "INSERT INTO workflows (id, name, active, data, created_at, updated_at) \
                     VALUES ($1, $2, 0, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET \
                     name = excluded.name, data = excluded.data, updated_at = excluded.updated_at",
                    vec![
                        id.as_str().into(),
                        name.into(),
                        data.to_string().into(),
                        now.into(),
                    ],
                ),
                // Only an active workflow's new JSON changes what the servers run.
                Stmt::new(
                    format!(
                        "{BUMP_VERSION} AND EXISTS (SELECT 1 FROM workflows WHERE id = $1 AND active = 1)"
                    ),
                    vec![id.as_str().into()],
                ),
            ])
            .await?;
        self.get_workflow(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("workflow {id} vanished")))
    }

    pub async fn get_workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let rows = self
            .db
            .query(
                &format!("SELECT {COLUMNS} FROM workflows WHERE id = $1"),
                vec![id.into()],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(WorkflowRecord::from_row)
            .transpose()
    }

    /// Workflows ordered by id, `limit` per page. Tags are matched on the stored JSON, so a
    /// page filtered by tags reads rows until it has `limit` or the table ends.
    pub async fn list_workflows(
        &self,
        filter: &WorkflowFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<WorkflowRecord>, StoreError> {
        let mut after = cursor.and_then(decode_cursor);
        let batch = limit + 1;
        let mut data = Vec::new();
        loop {
            let rows = self.workflow_rows(filter, after.as_deref(), batch).await?;
            let read_all = rows.len() < batch;
            after = rows.last().map(|r| r.id.clone());
            data.extend(rows.into_iter().filter(|r| filter.tags_match(r)));
            if data.len() > limit || read_all {
                break;
            }
        }
        let next_cursor = (data.len() > limit).then(|| {
            data.truncate(limit);
            encode_cursor(&data[limit - 1].id)
        });
        Ok(Page { data, next_cursor })
    }

    /// Up to `limit` workflows after id `after` matching `filter`'s columns, ordered by id.
    async fn workflow_rows(
        &self,
        filter: &WorkflowFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<WorkflowRecord>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM workflows WHERE 1 = 1");
        let mut params = Vec::new();
        if let Some(after) = after {
            params.push(Val::from(after.to_string()));
            sql += &format!(" AND id > ${}", params.len());
        }
        if let Some(active) = filter.active {
            params.push(active.into());
            sql += &format!(" AND active = ${}", params.len());
        }
        if let Some(name) = &filter.name {
            params.push(name.as_str().into());
            sql += &format!(" AND name = ${}", params.len());
        }
        params.push((limit as i64).into());
        sql += &format!(" ORDER BY id LIMIT ${}", params.len());
        self.db
            .query(&sql, params)
            .await?
            .into_iter()
            .map(WorkflowRecord::from_row)
            .collect()
    }

    /// Delete a workflow and its executions; the deleted workflow, if it existed.
    pub async fn delete_workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let Some(record) = self.get_workflow(id).await? else {
            return Ok(None);
        };
        self.writer.flush().await?;
        self.db
            .transaction(vec![
                Stmt::new(
                    "DELETE FROM executions WHERE workflow_id = $1",
                    vec![id.into()],
                ),
                Stmt::new("DELETE FROM workflows WHERE id = $1", vec![id.into()]),
                bump_version(),
            ])
            .await?;
        Ok(Some(record))
    }

    /// Set the active flag; the updated workflow, if it exists.
    pub async fn set_workflow_active(
        &self,
        id: &str,
        active: bool,
    ) -> Result<Option<WorkflowRecord>, StoreError> {
        self.db
            .transaction(vec![
                Stmt::new(
                    "UPDATE workflows SET active = $1, updated_at = $2 WHERE id = $3",
                    vec![active.into(), now_ms().into(), id.into()],
                ),
                bump_version(),
            ])
            .await?;
        self.get_workflow(id).await
    }

    /// The workflow's saved static data (n8n's `staticData`); `None` when the workflow does not
    /// exist or none was saved yet (then the workflow JSON's own `staticData` applies).
    pub async fn workflow_static_data(
        &self,
        id: &str,
    ) -> Result<Option<serde_json::Map<String, Value>>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT static_data FROM workflows WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let Some(text) = rows.into_iter().next().and_then(|r| r.into_iter().next()) else {
            return Ok(None);
        };
        let Some(text) = text.into_text() else {
            return Ok(None);
        };
        match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Ok(None),
            Err(e) => Err(StoreError::Corrupt(format!(
                "workflow {id} static data: {e}"
            ))),
        }
    }

    /// Save the workflow's static data after an execution changed it (no-op for an unknown id).
    pub async fn save_workflow_static_data(
        &self,
        id: &str,
        data: &serde_json::Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE workflows SET static_data = $1 WHERE id = $2",
                vec![
                    serde_json::to_string(data).unwrap_or_default().into(),
                    id.into(),
                ],
            )
            .await?;
        Ok(())
    }

    /// A number that changes whenever the set of active workflows or one's JSON changes
    /// (activation, deactivation, update or deletion, by any process sharing the store): a
    /// server polls it to pick up what other processes changed.
    pub async fn workflows_version(&self) -> Result<i64, StoreError> {
        self.db
            .query(
                "SELECT next_value FROM sequences WHERE name = 'workflows'",
                vec![],
            )
            .await?
            .first()
            .and_then(|r| r[0].int())
            .ok_or_else(|| StoreError::Corrupt("workflows version missing".into()))
    }

    /// Every active workflow (what `serve` registers on start).
    pub async fn active_workflows(&self) -> Result<Vec<WorkflowRecord>, StoreError> {
        self.db
            .query(
                &format!("SELECT {COLUMNS} FROM workflows WHERE active = 1 ORDER BY id"),
                vec![],
            )
            .await?
            .into_iter()
            .map(WorkflowRecord::from_row)
            .collect()
    }
}
