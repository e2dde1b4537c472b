//! Credentials for the node that runs: the engine resolves the references in a node's
//! `credentials` field once per execution through the [`Credentials`] source it was given (a
//! file under `sluice run`, the store under `sluice serve`), so nodes ask with one synchronous
//! call, [`ExecuteContext::node_credential`](crate::ExecuteContext::node_credential), whoever
//! started them.

use crate::NodeError;
use sluice_model::{NodeDef, Value};
use sluice_runtime::{CredentialRef, CredentialSource};
use std::fmt;
use std::sync::Arc;

/// A shared credential source (cloneable; printing it shows no secret).
#[derive(Clone)]
pub struct Credentials(pub Arc<dyn CredentialSource>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials")
    }
}

/// The credentials one node references, resolved: per type, the data or why it is missing.
#[derive(Default)]
pub(crate) struct NodeCredentials {
    resolved: Vec<(String, Result<Value, String>)>,
}

impl NodeCredentials {
    /// Resolve every reference in `def`'s `credentials` field.
    pub(crate) async fn resolve(def: &NodeDef, source: Option<&Credentials>) -> Self {
        let mut resolved = Vec::new();
        for (kind, entry) in references(def) {
            let reference = CredentialRef::from_json(entry);
            let data = match source {
                Some(source) => source
                    .0
                    .find(kind, &reference)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "the '{kind}' credential {reference} is not available: no credentials were \
                     given (sluice run --credentials FILE)"
                )),
            };
            resolved.push((kind.to_string(), data));
        }
        NodeCredentials { resolved }
    }

    /// The data of the `kind` credential, or a one-line error naming the node and credential.
    pub(crate) fn get(&self, node: &str, kind: &str) -> Result<Value, NodeError> {
        match self.resolved.iter().find(|(k, _)| k == kind) {
            Some((_, Ok(data))) => Ok(data.clone()),
            Some((_, Err(why))) => Err(NodeError::new(why.clone()).with_node(node)),
            None => Err(NodeError::new(format!(
                "a '{kind}' credential is required: the node's `credentials` names none"
            ))
            .with_node(node)),
        }
    }
}

/// `(type, reference)` pairs of a node's `credentials` field.
fn references(def: &NodeDef) -> impl Iterator<Item = (&str, &Value)> {
    def.credentials
        .as_ref()
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(kind, entry)| (kind.as_str(), entry))
}

/// True when the node references at least one credential.
pub(crate) fn has_references(def: &NodeDef) -> bool {
    references(def).next().is_some()
}
