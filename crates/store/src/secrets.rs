//! Credentials (encrypted at rest, never handed out except decrypted to the nodes that use them,
//! through the [`CredentialSource`] lookup) and API keys (stored as SHA-256 hashes).

use crate::sql::Val;
use crate::{iso, now_ms, random_id, Store, StoreError};
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sluice_runtime::{Credential, CredentialError, CredentialSource};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long this process reuses a credential it read from the store: executions starting
/// within it share one read (a query per execution was a fifth of a worker's round trips to
/// Postgres at a thousand executions a second). Writes through this process's store are seen
/// at once; another process's write (a credential imported while workers run) within this time.
pub(crate) const CREDENTIAL_REUSE: Duration = Duration::from_secs(1);

/// Credentials by id with when they were read: `(type, data)`.
type CredentialsRead = HashMap<String, (Instant, (String, Value))>;
pub(crate) type RecentCredentials = Mutex<CredentialsRead>;

/// A credential's public part.
#[derive(Clone, Debug)]
pub struct CredentialRecord {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CredentialRecord {
    /// The public API's shape (no secret).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        })
    }
}

fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    pub async fn create_credential(
        &self,
        name: &str,
        kind: &str,
        data: &Value,
    ) -> Result<CredentialRecord, StoreError> {
        let record = CredentialRecord {
            id: random_id(16),
            name: name.into(),
            kind: kind.into(),
            created_at: now_ms(),
            updated_at: now_ms(),
        };
        let sealed = self.cipher.encrypt(data.to_string().as_bytes());
        self.db
            .execute(
                "INSERT INTO credentials (id, name, type, data, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
                vec![
                    record.id.as_str().into(),
                    name.into(),
                    kind.into(),
                    sealed.into(),
                    record.created_at.into(),
                ],
            )
            .await?;
        self.forget_recent_credentials();
        Ok(record)
    }

    /// Store a credential under its own id, replacing the one with that id (as
    /// `n8n import:credentials` does).
    pub async fn import_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        let sealed = self.cipher.encrypt(credential.data.to_string().as_bytes());
        self.db
            .execute(
                "INSERT INTO credentials (id, name, type, data, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, type = excluded.type, data = excluded.data, \
                 updated_at = excluded.updated_at",
                vec![
                    credential.id.as_str().into(),
                    credential.name.as_str().into(),
                    credential.kind.as_str().into(),
                    sealed.into(),
                    now_ms().into(),
                ],
            )
            .await?;
        self.forget_recent_credentials();
        Ok(())
    }

    /// The deleted credential, if it existed.
    pub async fn delete_credential(
        &self,
        id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, name, type, created_at, updated_at FROM credentials WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        self.db
            .execute("DELETE FROM credentials WHERE id = $1", vec![id.into()])
            .await?;
        self.forget_recent_credentials();
        let mut it = row.into_iter();
        let mut next = || it.next().unwrap_or(Val::Null);
        Ok(Some(CredentialRecord {
            id: next().into_text().unwrap_or_default(),
            name: next().into_text().unwrap_or_default(),
            kind: next().into_text().unwrap_or_default(),
            created_at: next().int().unwrap_or(0),
            updated_at: next().int().unwrap_or(0),
        }))
    }

    /// A credential's type and decrypted data (read at most [`CREDENTIAL_REUSE`] ago).
    pub async fn credential_data(&self, id: &str) -> Result<Option<(String, Value)>, StoreError> {
        if let Some((read_at, credential)) = self.recent_credentials().get(id) {
            if read_at.elapsed() < CREDENTIAL_REUSE {
                return Ok(Some(credential.clone()));
            }
        }
        let rows = self
            .db
            .query(
                "SELECT id, type, data FROM credentials WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        let credential = rows
            .into_iter()
            .next()
            .map(|row| self.open_credential(row))
            .transpose()?;
        let mut recent = self.recent_credentials();
        recent.retain(|_, (read_at, _)| read_at.elapsed() < CREDENTIAL_REUSE);
        match &credential {
            Some(found) => recent.insert(id.to_string(), (Instant::now(), found.clone())),
            None => recent.remove(id),
        };
        Ok(credential)
    }

    fn recent_credentials(&self) -> std::sync::MutexGuard<'_, CredentialsRead> {
        self.recent_credentials.lock().expect("recent credentials")
    }

    fn forget_recent_credentials(&self) {
        self.recent_credentials().clear();
    }

    /// The type and decrypted data of the oldest credential of type `kind` named `name`.
    pub async fn credential_data_by_name(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Option<(String, Value)>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, type, data FROM credentials WHERE type = $1 AND name = $2 \
                 ORDER BY created_at, id LIMIT 1",
                vec![kind.into(), name.into()],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|row| self.open_credential(row))
            .transpose()
    }

    /// `(type, data)` of a `id, type, data` row.
    fn open_credential(&self, row: Vec<Val>) -> Result<(String, Value), StoreError> {
        let mut it = row.into_iter();
        let id = it.next().and_then(Val::into_text).unwrap_or_default();
        let kind = it.next().and_then(Val::into_text).unwrap_or_default();
        let sealed = it.next().and_then(Val::into_bytes).unwrap_or_default();
        let plain = self.cipher.decrypt(&sealed)?;
        let data = serde_json::from_slice(&plain)
            .map_err(|e| StoreError::Corrupt(format!("credential {id}: {e}")))?;
        Ok((kind, data))
    }

    /// Create an API key; the key itself is only ever returned here.
    pub async fn create_api_key(&self, label: &str) -> Result<String, StoreError> {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let key: String = std::iter::once("sluice_".to_string())
            .chain(bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        self.db
            .execute(
                "INSERT INTO api_keys (key_hash, label, created_at) VALUES ($1, $2, $3)",
                vec![hash_key(&key).into(), label.into(), now_ms().into()],
            )
            .await?;
        Ok(key)
    }

    pub async fn verify_api_key(&self, key: &str) -> Result<bool, StoreError> {
        Ok(!self
            .db
            .query(
                "SELECT 1 FROM api_keys WHERE key_hash = $1",
                vec![hash_key(key).into()],
            )
            .await?
            .is_empty())
    }
}

/// `sluice serve`'s credentials: the store's, decrypted when a node asks.
#[async_trait::async_trait]
impl CredentialSource for Store {
    async fn by_id(&self, id: &str) -> Result<Option<(String, Value)>, CredentialError> {
        self.credential_data(id).await.map_err(unreadable)
    }

    async fn by_name(&self, kind: &str, name: &str) -> Result<Option<Value>, CredentialError> {
        Ok(self
            .credential_data_by_name(kind, name)
            .await
            .map_err(unreadable)?
            .map(|(_, data)| data))
    }
}

fn unreadable(e: StoreError) -> CredentialError {
    CredentialError::Source(format!("the credentials cannot be read: {e}"))
}
