//! Workflow JSON as n8n writes it: nodes, connections, settings, pinData; unknown fields kept.

use crate::item::{Item, JsonObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `connections[source]["main"][outputIndex] = [{node, type, index}]`; entries may be null.
pub type NodeConnections = BTreeMap<String, Vec<Option<Vec<Connection>>>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub node: String,
    #[serde(rename = "type", default = "main_type")]
    pub kind: String,
    #[serde(default)]
    pub index: usize,
}

fn main_type() -> String {
    "main".into()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `null` where a value is expected reads as the default (`"settings": null`,
/// `"connections": null`: n8n accepts or imports both).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// What a node does when it fails (`onError`, or the legacy `continueOnFail`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OnError {
    #[default]
    StopWorkflow,
    ContinueRegularOutput,
    ContinueErrorOutput,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDef {
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub node_type: String,
    /// As the file gives it; see [`NodeDef::version`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_version: Option<f64>,
    #[serde(default)]
    pub position: [f64; 2],
    #[serde(default)]
    pub parameters: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Value>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub always_output_data: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub execute_once: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub retry_on_fail: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tries: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_between_tries: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<OnError>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub continue_on_fail: bool,
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl NodeDef {
    /// The node's typeVersion. A node without one runs as its type's default version: the engine
    /// fills that in before it builds the node, so nodes always see the version they run as.
    /// Unbuilt, a missing version reads as 1.
    pub fn version(&self) -> f64 {
        self.type_version.unwrap_or(1.0)
    }

    /// The effective error policy: `onError`, else `continueOnFail` as continueRegularOutput.
    pub fn error_policy(&self) -> OnError {
        match self.on_error {
            Some(policy) => policy,
            None if self.continue_on_fail => OnError::ContinueRegularOutput,
            None => OnError::StopWorkflow,
        }
    }

    /// Tries for `retryOnFail`, clamped to [2, 5] like n8n (default 3); 1 when retry is off.
    pub fn tries(&self) -> u32 {
        if !self.retry_on_fail {
            return 1;
        }
        let n = self.max_tries.as_ref().and_then(as_f64).unwrap_or(3.0);
        n.clamp(2.0, 5.0) as u32
    }

    /// Wait between tries in ms, clamped to [0, 5000] (default 1000).
    pub fn wait_between_tries_ms(&self) -> u64 {
        let n = self
            .wait_between_tries
            .as_ref()
            .and_then(as_f64)
            .unwrap_or(1000.0);
        n.clamp(0.0, 5000.0) as u64
    }

    /// The type without its package, e.g. `set` for `n8n-nodes-base.set`.
    pub fn short_type(&self) -> &str {
        self.node_type.rsplit('.').next().unwrap_or(&self.node_type)
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionOrder {
    V0,
    V1,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Any JSON: only the exact string `"v1"` means v1 (see [`Workflow::execution_order`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_order: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(flatten)]
    pub extra: JsonObject,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    #[serde(default)]
    pub name: String,
    pub nodes: Vec<NodeDef>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub connections: BTreeMap<String, NodeConnections>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub settings: Settings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_data: Option<BTreeMap<String, Vec<Item>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_data: Option<Value>,
    #[serde(flatten)]
    pub extra: JsonObject,
}

impl Workflow {
    /// v1 only when `settings.executionOrder` is exactly `"v1"`; anything else (absent, `"v2"`,
    /// `"V1"`, the number 1, null) is the legacy v0 order, as in n8n.
    pub fn execution_order(&self) -> ExecutionOrder {
        match &self.settings.execution_order {
            Some(Value::String(s)) if s == "v1" => ExecutionOrder::V1,
            _ => ExecutionOrder::V0,
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeDef> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The file's own `staticData` (empty unless it is an object): the workflow's static data
    /// until a host saves some.
    pub fn static_data_object(&self) -> JsonObject {
        match &self.static_data {
            Some(Value::Object(map)) => map.clone(),
            _ => JsonObject::new(),
        }
    }

    /// The workflow id as a string (`$workflow.id`), empty when the file has none.
    pub fn id_string(&self) -> String {
        match &self.id {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    pub fn active(&self) -> bool {
        self.extra
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Main-connection targets of `source`'s outputs: `[output][k]`.
    pub fn main_outputs(&self, source: &str) -> &[Option<Vec<Connection>>] {
        self.connections
            .get(source)
            .and_then(|c| c.get("main"))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
