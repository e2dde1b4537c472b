//! Items' binary properties as nodes use them: n8n's metadata (`mimeType`, `fileType`,
//! `fileName`, `fileExtension`, `fileSize`) with the bytes kept by the execution's
//! [`sluice_runtime::BinaryData`] store (inline base64 or a file on disk), so every node reads
//! and writes binary data one way whatever the mode.

use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::{Item, JsonObject, Value};
use std::io::{Read, Write};
use std::path::Path;

pub use sluice_runtime::binary_data::pretty_bytes;

/// Binary property `property` of `item`, or n8n's error when it has none.
pub fn property<'a>(item: &'a Item, property: &str) -> Result<&'a JsonObject, NodeError> {
    item.binary
        .as_ref()
        .and_then(|b| b.get(property))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            NodeError::new(format!("This operation expects the node's input data to contain a binary file '{property}', but none was found"))
                .with_parameter("binaryPropertyName")
        })
}

/// A reader over the bytes of binary property `name` of `item`.
pub fn open<'a>(
    ctx: &ExecuteContext<'_>,
    item: &'a Item,
    name: &str,
) -> Result<Box<dyn Read + Send + 'a>, NodeError> {
    let entry = property(item, name)?;
    ctx.binary_data()
        .open(entry)
        .map_err(|e| NodeError::new(format!("binary property '{name}' cannot be read: {e}")))
}

/// The bytes of binary property `name` of `item`.
pub fn read(ctx: &ExecuteContext<'_>, item: &Item, name: &str) -> Result<Vec<u8>, NodeError> {
    let mut bytes = Vec::new();
    open(ctx, item, name)?
        .read_to_end(&mut bytes)
        .map_err(|e| NodeError::new(format!("binary property '{name}' cannot be read: {e}")))?;
    Ok(bytes)
}

/// n8n's metadata of a file: its MIME type, coarse type, extension (from the name, else the MIME
/// type) and name when it has one.
pub fn metadata(file_name: Option<&str>, mime_type: &str) -> JsonObject {
    let mut out = JsonObject::new();
    out.insert("mimeType".into(), Value::String(mime_type.to_string()));
    if let Some(kind) = file_type(mime_type) {
        out.insert("fileType".into(), Value::String(kind.into()));
    }
    let extension = match file_name {
        Some(name) => Path::new(name).extension().and_then(|e| e.to_str()),
        None => mime_guess::get_mime_extensions_str(mime_type).and_then(|e| e.first().copied()),
    };
    if let Some(ext) = extension {
        out.insert("fileExtension".into(), Value::String(ext.to_string()));
    }
    if let Some(name) = file_name {
        out.insert("fileName".into(), Value::String(name.to_string()));
    }
    out
}

/// The MIME type of a file name by its extension (`application/octet-stream` when unknown).
pub fn mime_type_of(file_name: &str) -> String {
    mime_guess::from_path(file_name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
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
        .map_err(|e| NodeError::new(format!("could not store binary data: {e}")))
}

/// n8n's coarse file type for a MIME type.
pub fn file_type(mime_type: &str) -> Option<&'static str> {
    Some(match mime_type {
        "application/json" => "json",
        "application/pdf" => "pdf",
        "text/html" => "html",
        m if m.starts_with("image/") => "image",
        m if m.starts_with("audio/") => "audio",
        m if m.starts_with("video/") => "video",
        m if m.starts_with("text/") => "text",
        _ => return None,
    })
}
