//! Binary item data as n8n stores it in memory mode: `{data: base64, mimeType, fileName,
//! fileExtension, fileSize, fileType?, directory?}` under a property name of `item.binary`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sluice_engine::NodeError;
use sluice_model::{Item, JsonObject, Value};

/// The bytes of binary property `property` of `item`.
pub fn read(item: &Item, property: &str) -> Result<Vec<u8>, NodeError> {
    let entry = item
        .binary
        .as_ref()
        .and_then(|b| b.get(property))
        .ok_or_else(|| {
            NodeError::new(format!("This operation expects the node's input data to contain a binary file '{property}', but none was found"))
                .with_parameter("binaryPropertyName")
        })?;
    let data = entry.get("data").and_then(Value::as_str).ok_or_else(|| {
        NodeError::new(format!(
            "binary property '{property}' has no in-memory data (only in-memory binary data is supported)"
        ))
    })?;
    STANDARD.decode(data).map_err(|e| {
        NodeError::new(format!(
            "binary property '{property}' is not valid base64: {e}"
        ))
    })
}

/// A binary entry for `bytes` read from `path` (its folder becomes `directory`).
pub fn entry(bytes: &[u8], path: &std::path::Path, mime_type: &str) -> Value {
    let mut out = JsonObject::new();
    out.insert("data".into(), Value::String(STANDARD.encode(bytes)));
    out.insert("mimeType".into(), Value::String(mime_type.to_string()));
    if let Some(kind) = file_type(mime_type) {
        out.insert("fileType".into(), Value::String(kind.into()));
    }
    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
        out.insert("fileName".into(), Value::String(name.to_string()));
    }
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        out.insert("fileExtension".into(), Value::String(ext.to_string()));
    }
    if let Some(dir) = path
        .parent()
        .and_then(|d| d.to_str())
        .filter(|d| !d.is_empty())
    {
        out.insert("directory".into(), Value::String(dir.to_string()));
    }
    out.insert("fileSize".into(), Value::String(pretty_bytes(bytes.len())));
    Value::Object(out)
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

/// Sizes as n8n shows them: `4 B`, `1.5 kB`, `12.3 MB` (decimal units, 3 significant digits).
pub fn pretty_bytes(size: usize) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        return format!("{size} B");
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let rounded = format!("{value:.digits$}");
    let trimmed = if rounded.contains('.') {
        rounded
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        rounded
    };
    format!("{trimmed} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(pretty_bytes(4), "4 B");
        assert_eq!(pretty_bytes(1500), "1.5 kB");
        assert_eq!(pretty_bytes(12_345_678), "12.3 MB");
    }
}
