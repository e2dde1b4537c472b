//! Items' binary properties as nodes use them: n8n's metadata (`mimeType`, `fileType`,
//! `fileName`, `fileExtension`, `fileSize`) with the bytes kept by the execution's
//! [`sluice_runtime::BinaryData`] store (inline base64 or a file on disk), so every node reads
//! and writes binary data one way whatever the mode.

use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::{Item, JsonObject, Value};
use std::io::{Read, Write};

pub use sluice_runtime::binary_data::{
    file_type, metadata, mime_type_of, pretty_bytes, BinaryData, BinaryWriter,
};

/// Binary property `property` of `item`, or n8n's error (naming `parameter`, the parameter that
/// chose the property) when it has none.
pub fn property<'a>(
    item: &'a Item,
    property: &str,
    parameter: &str,
) -> Result<&'a JsonObject, NodeError> {
    item.binary
        .as_ref()
        .and_then(|b| b.get(property))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            NodeError::new(format!("This operation expects the node's input data to contain a binary file '{property}', but none was found"))
                .with_parameter(parameter)
        })
}

/// A reader over the bytes of binary property `name` of `item` (chosen by `parameter`).
pub fn open<'a>(
    ctx: &ExecuteContext<'_>,
    item: &'a Item,
    name: &str,
    parameter: &str,
) -> Result<Box<dyn Read + Send + 'a>, NodeError> {
    let entry = property(item, name, parameter)?;
    ctx.binary_data()
        .open(entry)
        .map_err(|e| unreadable(name, e))
}

/// Binary property `name` that cannot be read, as a node error.
pub fn unreadable(name: &str, e: std::io::Error) -> NodeError {
    NodeError::new(format!("binary property '{name}' cannot be read: {e}"))
}

/// Like [`open`], for a reader that outlives the node run (a table read as a stream); it shares
/// the item's binary data rather than copying it.
pub fn open_shared(
    ctx: &ExecuteContext<'_>,
    item: &Item,
    name: &str,
    parameter: &str,
) -> Result<Box<dyn Read + Send>, NodeError> {
    property(item, name, parameter)?;
    let binary = item.binary.clone().expect("the property was found");
    ctx.binary_data()
        .open_shared(binary, name)
        .map_err(|e| unreadable(name, e))
}

/// The bytes of binary property `name` of `item` (chosen by `parameter`).
pub fn read(
    ctx: &ExecuteContext<'_>,
    item: &Item,
    name: &str,
    parameter: &str,
) -> Result<Vec<u8>, NodeError> {
    let mut bytes = Vec::new();
    open(ctx, item, name, parameter)?
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(name, e))?;
    Ok(bytes)
}

/// A binary property holding `bytes` described by `metadata`.
pub fn store(
    ctx: &ExecuteContext<'_>,
    bytes: &[u8],
    metadata: JsonObject,
) -> Result<JsonObject, NodeError> {
    store_with(ctx, metadata, |out| out.write_all(bytes))
}

/// A binary property holding what `write` writes (straight to disk in filesystem mode).
pub fn store_with(
    ctx: &ExecuteContext<'_>,
    metadata: JsonObject,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<JsonObject, NodeError> {
    ctx.binary_data()
        .store_with(ctx.execution_id(), metadata, write)
        .map_err(store_error)
}

/// A binary data store's failure as a node error.
pub fn store_error(e: std::io::Error) -> NodeError {
    NodeError::new(format!("could not store binary data: {e}"))
}
