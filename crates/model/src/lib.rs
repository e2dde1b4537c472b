//! The n8n data contract: workflow JSON and items, loaded and validated without any I/O.
//!
//! Everything above this crate (expressions, engine, nodes, CLI) speaks these types, so a workflow
//! exported from n8n round-trips through Sluice unchanged: unknown fields are kept in `extra` maps.

mod item;
mod item_json;
mod load;
mod paired;
mod workflow;

pub use item::{items_from_value, Item, JsonObject};
pub use item_json::{Fields, ItemJson, ObjectIter, ObjectRef};
pub use load::{LoadError, LoadWarning, Loaded, NodeField};
pub use paired::{paired_items_from_value, PairedItem, PairedItems, SourceRef};
pub use serde_json::Value;
pub use workflow::{
    Connection, ExecutionOrder, NodeConnections, NodeDef, OnError, Settings, Workflow,
};
