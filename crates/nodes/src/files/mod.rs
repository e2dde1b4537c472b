//! File nodes: reading and writing files on disk (Read/Write Files from Disk and the legacy Read
//! Binary File(s) and Write Binary File), turning files into items and back (Extract From File,
//! Convert to File, the legacy Spreadsheet File and Move Binary Data) and Compression. Bytes go
//! through the execution's binary data store (`util::binary`), so they stay on disk in
//! filesystem mode; CSV is read as a stream, and Convert to File writes CSV and JSON arrays as
//! the items arrive (`file_sink`).

mod compression;
mod convert_to_file;
mod disk;
mod encoding;
mod extract_from_file;
mod file_sink;
mod html_table;
mod ical;
mod move_binary_data;
mod ods;
mod rtf_table;
mod spreadsheet_file;
mod table;
mod xls;
mod xlsx_rows;

use crate::util::params::text_param;
use sluice_engine::{ExecuteContext, NodeError, NodeSpec};
use sluice_model::{Item, JsonObject, PairedItem, Value};
use std::sync::Arc;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        disk::READ_WRITE_SPEC,
        disk::READ_BINARY_FILE_SPEC,
        disk::READ_BINARY_FILES_SPEC,
        disk::WRITE_BINARY_FILE_SPEC,
        move_binary_data::SPEC,
        compression::SPEC,
        extract_from_file::SPEC,
        convert_to_file::SPEC,
        spreadsheet_file::SPEC,
    ]
}

/// Run `f` on every item of the main input, each giving any number of items. When `f` fails:
/// with `continueOnFail` the item becomes an error item, otherwise the node fails naming it.
fn per_item(
    ctx: &ExecuteContext<'_>,
    mut f: impl FnMut(usize, &Item) -> Result<Vec<Item>, NodeError>,
) -> Result<Vec<Item>, NodeError> {
    let mut out = Vec::new();
    for (i, item) in ctx.main_input().iter().enumerate() {
        match f(i, item) {
            Ok(items) => out.extend(items),
            Err(e) if ctx.continue_on_fail() => out.push(ctx.error_item(&e, i)),
            Err(e) => return Err(e.with_item(i)),
        }
    }
    Ok(out)
}

/// A switch of item `i`: `true`/`false` (or their text); `default` when absent.
fn flag_param(
    ctx: &ExecuteContext<'_>,
    path: &str,
    i: usize,
    default: bool,
) -> Result<bool, NodeError> {
    match ctx.param(path, i)? {
        Value::Null => Ok(default),
        v => crate::util::params::as_bool(&v).ok_or_else(|| {
            NodeError::new(format!("expected true or false, got {v}")).with_parameter(path)
        }),
    }
}

/// A number parameter of item `i`; `default` when absent.
fn number_param(
    ctx: &ExecuteContext<'_>,
    path: &str,
    i: usize,
    default: f64,
) -> Result<f64, NodeError> {
    match ctx.param(path, i)? {
        Value::Null => Ok(default),
        v => crate::util::values::as_number(&v).ok_or_else(|| {
            NodeError::new(format!("expected a number, got {v}")).with_parameter(path)
        }),
    }
}

/// An I/O error as a node error naming the parameter that chose the file.
fn io_error(what: &str, e: impl std::fmt::Display, parameter: &str) -> NodeError {
    NodeError::new(format!("{what}: {e}")).with_parameter(parameter)
}

/// An item holding `entry` under binary property `binaryPropertyName`, paired to `sources`.
fn file_item(
    ctx: &ExecuteContext<'_>,
    entry: JsonObject,
    sources: std::ops::Range<usize>,
) -> Result<Item, NodeError> {
    let property = text_param(ctx, "binaryPropertyName", sources.start, "data")?;
    Ok(binary_item(property, entry, sources))
}

/// An item holding `entry` under binary property `property`, paired to `sources`.
fn binary_item(property: String, entry: JsonObject, sources: std::ops::Range<usize>) -> Item {
    let mut binary_map = JsonObject::new();
    binary_map.insert(property, Value::Object(entry));
    let mut item = Item::new(JsonObject::new());
    item.binary = Some(Arc::new(binary_map));
    item.paired_item = sources.map(PairedItem::new).collect();
    item
}
