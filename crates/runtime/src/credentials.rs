//! Credentials as nodes receive them, found the way n8n finds them: a node names its credential
//! per type (`"credentials": {"httpBasicAuth": {"id": "7", "name": "Billing API"}}`); the
//! credential with that id is used, or, when no credential has that id, the first one of that
//! type with that name. `sluice run` and `sluice test` read them from a file in the shape
//! `n8n export:credentials --decrypted` writes ([`CredentialSet`]); `sluice serve` reads them from
//! its encrypted store. Both are a [`CredentialSource`], so the lookup rule lives here once.
//!
//! Secret data never reaches a `Debug` or `Display` implementation in this module: errors name
//! credentials by type, name and id only.

use serde_json::Value;
use std::fmt;

/// How a node names one of its credentials (an entry of the node's `credentials` field).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CredentialRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

impl CredentialRef {
    /// The reference a node's `credentials` entry holds (`{"id", "name"}`; n8n's oldest files
    /// hold the name as a bare string).
    pub fn from_json(entry: &Value) -> Self {
        let text = |v: &Value| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match entry {
            Value::String(name) => CredentialRef {
                id: None,
                name: text(&Value::String(name.clone())),
            },
            _ => CredentialRef {
                id: text(&entry["id"]),
                name: text(&entry["name"]),
            },
        }
    }
}

impl fmt::Display for CredentialRef {
    /// `"Billing API" (id 7)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.id) {
            (Some(name), Some(id)) => write!(f, "\"{name}\" (id {id})"),
            (Some(name), None) => write!(f, "\"{name}\""),
            (None, Some(id)) => write!(f, "id {id}"),
            (None, None) => f.write_str("(no id or name)"),
        }
    }
}

/// Why a credential could not be had. Never carries secret data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialError {
    /// No credential has the reference's id, and none of the type has its name.
    NotFound {
        kind: String,
        reference: CredentialRef,
    },
    /// The credential with the reference's id is of another type.
    WrongType {
        kind: String,
        reference: CredentialRef,
        found: String,
    },
    /// The source failed (the store could not be read, a file is malformed, ...).
    Source(String),
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialError::NotFound { kind, reference } => {
                write!(f, "the '{kind}' credential {reference} does not exist")
            }
            CredentialError::WrongType {
                kind,
                reference,
                found,
            } => write!(
                f,
                "the credential {reference} is of type '{found}', not '{kind}'"
            ),
            CredentialError::Source(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for CredentialError {}

/// Where credentials come from: a file for `sluice run`, the store for `sluice serve`.
/// Implement the two look-ups; [`CredentialSource::find`] applies n8n's rule on top of them.
#[async_trait::async_trait]
pub trait CredentialSource: Send + Sync {
    /// The type and data of the credential with this id, if any.
    async fn by_id(&self, id: &str) -> Result<Option<(String, Value)>, CredentialError>;

    /// The data of the first credential of type `kind` named `name`, if any.
    async fn by_name(&self, kind: &str, name: &str) -> Result<Option<Value>, CredentialError>;

    /// The data of the credential of type `kind` that `reference` names: by id, else (when no
    /// credential has that id) by name.
    async fn find(&self, kind: &str, reference: &CredentialRef) -> Result<Value, CredentialError> {
        if let Some(id) = &reference.id {
            match self.by_id(id).await? {
                Some((found, data)) if found == kind => return Ok(data),
                Some((found, _)) => {
                    return Err(CredentialError::WrongType {
                        kind: kind.into(),
                        reference: reference.clone(),
                        found,
                    })
                }
                None => {}
            }
        }
        if let Some(name) = &reference.name {
            if let Some(data) = self.by_name(kind, name).await? {
                return Ok(data);
            }
        }
        Err(CredentialError::NotFound {
            kind: kind.into(),
            reference: reference.clone(),
        })
    }
}

/// One credential of an export file.
#[derive(Clone)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// The decrypted `data` object.
    pub data: Value,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Credentials read from a file written by `n8n export:credentials --decrypted`: a JSON array of
/// `{"id", "name", "type", "data": {...}, ...}` (a single object is taken as a one-element array).
#[derive(Clone, Debug, Default)]
pub struct CredentialSet {
    credentials: Vec<Credential>,
}

impl CredentialSet {
    /// Parse an export file's text. Encrypted exports (`data` a string: exported without
    /// `--decrypted`) are refused, naming the credential.
    pub fn from_export_json(text: &str) -> Result<Self, CredentialError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            CredentialError::Source(format!("invalid JSON at line {}:{}", e.line(), e.column()))
        })?;
        let entries = match value {
            Value::Array(entries) => entries,
            one @ Value::Object(_) => vec![one],
            _ => {
                return Err(CredentialError::Source(
                    "a credentials file holds a JSON array of credentials".into(),
                ))
            }
        };
        let credentials = entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| Credential::from_export_entry(i, entry))
            .collect::<Result<_, _>>()?;
        Ok(CredentialSet { credentials })
    }

    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }
}

impl Credential {
    fn from_export_entry(index: usize, entry: Value) -> Result<Self, CredentialError> {
        let Value::Object(mut entry) = entry else {
            return Err(CredentialError::Source(format!(
                "credential {index} is not a JSON object"
            )));
        };
        let text = |key: &str| match entry.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let (id, name, kind) = (text("id"), text("name"), text("type"));
        let label = name.as_deref().or(id.as_deref()).unwrap_or("?").to_string();
        let missing = |field: &str| {
            CredentialError::Source(format!(
                "credential {index} (\"{label}\") has no \"{field}\""
            ))
        };
        let kind = kind.ok_or_else(|| missing("type"))?;
        let id = id.ok_or_else(|| missing("id"))?;
        let name = name.unwrap_or_default();
        let data = match entry.remove("data") {
            Some(data @ Value::Object(_)) => data,
            Some(Value::String(_)) => {
                return Err(CredentialError::Source(format!(
                    "credential {index} (\"{label}\") is encrypted: export it with \
                     `n8n export:credentials --decrypted`"
                )))
            }
            _ => return Err(missing("data")),
        };
        Ok(Credential {
            id,
            name,
            kind,
            data,
        })
    }
}

#[async_trait::async_trait]
impl CredentialSource for CredentialSet {
    async fn by_id(&self, id: &str) -> Result<Option<(String, Value)>, CredentialError> {
        Ok(self
            .credentials
            .iter()
            .find(|c| c.id == id)
            .map(|c| (c.kind.clone(), c.data.clone())))
    }

    async fn by_name(&self, kind: &str, name: &str) -> Result<Option<Value>, CredentialError> {
        Ok(self
            .credentials
            .iter()
            .find(|c| c.kind == kind && c.name == name)
            .map(|c| c.data.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"[
        {"id": "1", "name": "Billing", "type": "httpBasicAuth",
         "data": {"user": "u", "password": "hunter2"}, "createdAt": "2025-01-01T00:00:00.000Z"},
        {"id": "2", "name": "Billing", "type": "httpHeaderAuth",
         "data": {"name": "X-Key", "value": "hunter3"}}
    ]"#;

    fn reference(id: Option<&str>, name: Option<&str>) -> CredentialRef {
        CredentialRef {
            id: id.map(String::from),
            name: name.map(String::from),
        }
    }

    #[tokio::test]
    async fn found_by_id_else_by_name_of_the_same_type() {
        let set = CredentialSet::from_export_json(FILE).unwrap();
        let by_id = set
            .find("httpBasicAuth", &reference(Some("1"), Some("other")))
            .await
            .unwrap();
        assert_eq!(by_id["password"], "hunter2");
        let by_name = set
            .find("httpHeaderAuth", &reference(Some("99"), Some("Billing")))
            .await
            .unwrap();
        assert_eq!(by_name["value"], "hunter3");
    }

    #[tokio::test]
    async fn errors_name_the_credential_and_never_its_data() {
        let set = CredentialSet::from_export_json(FILE).unwrap();
        let wrong = set
            .find("httpHeaderAuth", &reference(Some("1"), Some("Billing")))
            .await
            .unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "the credential \"Billing\" (id 1) is of type 'httpBasicAuth', not 'httpHeaderAuth'"
        );
        let missing = set
            .find("httpBasicAuth", &reference(Some("5"), Some("Nope")))
            .await
            .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "the 'httpBasicAuth' credential \"Nope\" (id 5) does not exist"
        );
        let debug = format!("{set:?}");
        assert!(debug.contains("Billing") && !debug.contains("hunter"));
    }

    #[test]
    fn encrypted_exports_are_refused() {
        let err = CredentialSet::from_export_json(
            r#"[{"id": "1", "name": "B", "type": "httpBasicAuth", "data": "U2FsdGVk"}]"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("--decrypted"), "{err}");
    }

    #[test]
    fn references_read_id_and_name() {
        let r = CredentialRef::from_json(&serde_json::json!({"id": 12, "name": "A"}));
        assert_eq!(r, reference(Some("12"), Some("A")));
        assert_eq!(
            CredentialRef::from_json(&serde_json::json!("Legacy")),
            reference(None, Some("Legacy"))
        );
    }
}
