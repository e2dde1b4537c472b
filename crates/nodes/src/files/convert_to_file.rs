//! Convert to File (`convertToFile` v1, v1.1): items become a file in a binary property. Tables
//! (CSV, XLSX, ...) and JSON in `once` mode take every item into one file: CSV and the JSON array
//! are written as the items arrive (`file_sink`, the node's sink in a streamed chain), the other
//! tables at once. JSON in `each` mode, text (`toText`), base64 (`toBinary`) and iCalendar
//! events (`iCal`) make one file per item, so they are item-wise.

use crate::files::extract_from_file::single_byte;
use crate::files::file_sink::{FileSink, SinkFormat};
use crate::files::table::{self, TableFormat, WriteOptions};
use crate::files::{encoding, ical};
use crate::files::{file_item, flag_param, per_item};
use crate::util::binary;
use crate::util::params::text_param;
use crate::util::params::{unsupported, Reader};
use crate::util::path;
use base64::Engine;
use sluice_engine::{
    ExecuteContext, ItemSink, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, ItemJson, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.convertToFile",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

#[derive(Clone, Copy)]
enum Operation {
    /// One file of all items, written as they arrive (CSV, JSON in `once` mode, XLSX).
    Sink(SinkFormat),
    /// One table file of all items, written at once (XLS, ODS, HTML, RTF).
    Table(TableFormat),
    /// `toJson` in `each` mode: one file per item.
    JsonEach,
    Text,
    Base64,
    /// One iCalendar event per item.
    ICal,
}

struct ConvertToFile {
    operation: Operation,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let reader = Reader::fixed(params);
    let operation = match reader.str_or("operation", "csv")? {
        "toJson" => reader.choice("mode", "once", |mode| match mode {
            "once" => Some(Operation::Sink(SinkFormat::JsonArray)),
            "each" => Some(Operation::JsonEach),
            _ => None,
        })?,
        "toText" => Operation::Text,
        "toBinary" => Operation::Base64,
        "iCal" => Operation::ICal,
        other => match TableFormat::parse(other) {
            Some(TableFormat::Csv) => Operation::Sink(SinkFormat::Csv),
            Some(TableFormat::Xlsx) => Operation::Sink(SinkFormat::Xlsx),
            Some(format) => Operation::Table(format),
            None => return Err(unsupported("operation", other)),
        },
    };
    Ok(Box::new(ConvertToFile { operation }))
}

#[async_trait::async_trait]
impl Node for ConvertToFile {
    fn item_wise(&self) -> ItemWise {
        match self.operation {
            Operation::Sink(_) => ItemWise::Sink,
            Operation::Table(_) => ItemWise::Barrier,
            Operation::JsonEach | Operation::Text | Operation::Base64 | Operation::ICal => {
                ItemWise::Yes
            }
        }
    }

    async fn sink(&self, ctx: &ExecuteContext<'_>) -> Result<Box<dyn ItemSink>, NodeError> {
        match self.operation {
            Operation::Sink(format) => Ok(Box::new(FileSink::new(ctx, format)?)),
            _ => unreachable!("only the operations `item_wise` calls sinks are asked for one"),
        }
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.main_input();
        let out = match self.operation {
            Operation::Sink(_) => {
                let mut sink = self.sink(ctx).await?;
                sink.push(ctx).await?;
                return sink.finish().await?.into_outputs().await;
            }
            Operation::Table(format) => {
                let options = WriteOptions {
                    delimiter: single_byte(
                        &text_param(ctx, "options.delimiter", 0, ",")?,
                        "options.delimiter",
                    )?,
                    header_row: flag_param(ctx, "options.headerRow", 0, true)?,
                    sheet_name: text_param(ctx, "options.sheetName", 0, "Sheet")?,
                };
                let default_name = format!("file.{}", format.extension());
                let file_name = text_param(ctx, "options.fileName", 0, &default_name)?;
                let entry = table::write_items(ctx, items, format, &file_name, &options)?;
                vec![file_item(ctx, entry, 0..items.len())?]
            }
            Operation::JsonEach => {
                per_item(ctx, |i, item| Ok(vec![json_file(ctx, &item.json, i)?]))?
            }
            Operation::Text => per_item(ctx, |i, item| {
                let source = text_param(ctx, "sourceProperty", i, "")?;
                let value = path::get(&item.json, &source).ok_or_else(|| {
                    NodeError::new(format!("the item has no field '{source}'"))
                        .with_parameter("sourceProperty")
                })?;
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
                let bytes = encoded(ctx, &text, i)?;
                let file_name = text_param(ctx, "options.fileName", i, "file.txt")?;
                let entry = binary::store(
                    ctx,
                    &bytes,
                    binary::metadata(Some(&file_name), "text/plain"),
                )?;
                Ok(vec![file_item(ctx, entry, i..i + 1)?])
            })?,
            Operation::Base64 => per_item(ctx, |i, item| {
                let source = text_param(ctx, "sourceProperty", i, "")?;
                let text = path::get(&item.json, &source)
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        NodeError::new(format!("the item has no text field '{source}'"))
                            .with_parameter("sourceProperty")
                    })?;
                let bytes = if flag_param(ctx, "options.dataIsBase64", i, true)? {
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|e| {
                            NodeError::new(format!("field '{source}' is not base64: {e}"))
                                .with_parameter("sourceProperty")
                        })?
                } else {
                    encoded(ctx, text, i)?
                };
                let file_name = ctx
                    .param_str("options.fileName", i)?
                    .filter(|n| !n.is_empty());
                let mime_type = match ctx
                    .param_str("options.mimeType", i)?
                    .filter(|m| !m.is_empty())
                {
                    Some(mime) => mime,
                    None => file_name
                        .as_deref()
                        .map(binary::mime_type_of)
                        .unwrap_or_else(|| "application/octet-stream".into()),
                };
                let entry = binary::store(
                    ctx,
                    &bytes,
                    binary::metadata(file_name.as_deref(), &mime_type),
                )?;
                Ok(vec![file_item(ctx, entry, i..i + 1)?])
            })?,
            Operation::ICal => per_item(ctx, |i, _| {
                let fields = match ctx.param("additionalFields", i)? {
                    Value::Object(fields) => fields,
                    _ => Default::default(),
                };
                let event = ical::Event {
                    title: text_param(ctx, "title", i, "")?,
                    start: text_param(ctx, "start", i, "")?,
                    end: text_param(ctx, "end", i, "")?,
                    all_day: flag_param(ctx, "allDay", i, false)?,
                    fields,
                    now: ctx.now(),
                };
                let bytes = ical::write(&event)?;
                let file_name = event
                    .fields
                    .get("fileName")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .unwrap_or("event.ics")
                    .to_string();
                let entry = binary::store(
                    ctx,
                    &bytes,
                    binary::metadata(Some(&file_name), "text/calendar"),
                )?;
                Ok(vec![file_item(ctx, entry, i..i + 1)?])
            })?,
        };
        Ok(vec![out])
    }
}

/// `text` in the encoding `options.encoding` names, with a BOM when `options.addBOM` is set.
fn encoded(ctx: &ExecuteContext<'_>, text: &str, i: usize) -> Result<Vec<u8>, NodeError> {
    let (encoding, add_bom) = encoding_options(ctx, i)?;
    Ok(encoding::encode(text, encoding, add_bom))
}

/// Item `i`'s `options.encoding` and whether to add a byte order mark (`options.addBOM`).
pub(super) fn encoding_options(
    ctx: &ExecuteContext<'_>,
    i: usize,
) -> Result<(&'static encoding_rs::Encoding, bool), NodeError> {
    let encoding = encoding::by_name(
        &text_param(ctx, "options.encoding", i, "utf8")?,
        "options.encoding",
    )?;
    Ok((encoding, flag_param(ctx, "options.addBOM", i, false)?))
}

/// Item `i`'s `json` as a JSON file (pretty with `options.format`).
fn json_file(ctx: &ExecuteContext<'_>, json: &ItemJson, i: usize) -> Result<Item, NodeError> {
    let text = if flag_param(ctx, "options.format", i, false)? {
        serde_json::to_string_pretty(json)
    } else {
        serde_json::to_string(json)
    }
    .map_err(|e| NodeError::new(format!("could not write JSON: {e}")))?;
    let bytes = encoded(ctx, &text, i)?;
    let file_name = text_param(ctx, "options.fileName", i, "file.json")?;
    let entry = binary::store(
        ctx,
        &bytes,
        binary::metadata(Some(&file_name), "application/json"),
    )?;
    file_item(ctx, entry, i..i + 1)
}
