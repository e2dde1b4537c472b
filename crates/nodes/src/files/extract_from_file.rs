//! Extract From File (`extractFromFile` v1): a binary property becomes items. Tables (CSV,
//! XLSX, XLS, ODS, HTML, RTF) give one item per row; text, JSON (an array, an object or NDJSON
//! lines), an iCalendar file's events and the raw bytes as base64 give one item holding the
//! value under `destinationKey`.

use crate::files::table::{self, CellRange, CsvOptions, ReadOptions, RowOptions, TableFormat};
use crate::files::xlsx_rows::xlsx_rows;
use crate::files::{encoding, ical};
use crate::files::{flag_param, number_param, per_item};
use crate::util::binary;
use crate::util::params::text_param;
use crate::util::params::unsupported;
use base64::Engine;
use futures_util::StreamExt;
use sluice_engine::{
    ExecuteContext, ItemSource, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{Item, JsonObject, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.extractFromFile",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

/// What the file holds.
#[derive(Clone, Copy)]
enum Operation {
    Table(TableFormat),
    Text,
    Json,
    Base64,
    /// An iCalendar file's events.
    Ics,
}

struct ExtractFromFile {
    operation: Operation,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let name = crate::util::params::Reader::fixed(params).str_or("operation", "csv")?;
    let operation = match name {
        "text" => Operation::Text,
        "fromJson" => Operation::Json,
        "fromIcs" => Operation::Ics,
        "binaryToPropery" | "binaryToProperty" => Operation::Base64,
        other => Operation::Table(
            TableFormat::parse(other).ok_or_else(|| unsupported("operation", other))?,
        ),
    };
    Ok(Box::new(ExtractFromFile { operation }))
}

#[async_trait::async_trait]
impl Node for ExtractFromFile {
    /// Each input item becomes its own rows or value; a CSV or XLSX file is read as a stream.
    fn item_wise(&self) -> ItemWise {
        match self.operation {
            Operation::Table(TableFormat::Csv | TableFormat::Xlsx) => ItemWise::Source,
            _ => ItemWise::Yes,
        }
    }

    /// The rows of every input item's CSV or XLSX file, read as the engine pulls them.
    async fn item_source(&self, ctx: &ExecuteContext<'_>) -> Result<Option<ItemSource>, NodeError> {
        let Operation::Table(format @ (TableFormat::Csv | TableFormat::Xlsx)) = self.operation
        else {
            return Ok(None);
        };
        let mut files = Vec::new();
        for (i, item) in ctx.main_input().iter().enumerate() {
            let items = || -> Result<Box<dyn Iterator<Item = _> + Send>, NodeError> {
                let property = text_param(ctx, "binaryPropertyName", i, "data")?;
                let options = read_options(ctx, i)?;
                let rows: table::RowIter = if format == TableFormat::Csv {
                    let reader = binary::open_shared(ctx, item, &property, "binaryPropertyName")?;
                    table::csv_rows(reader, &options.csv)?
                } else {
                    let bytes = binary::read(ctx, item, &property, "binaryPropertyName")?;
                    let sheet = options.sheet_name.as_deref();
                    xlsx_rows(bytes, sheet, options.cells_as_text)?
                };
                Ok(Box::new(table::row_items(rows, options.rows, i)))
            };
            files.push(items().map_err(|e| e.with_item(i))?);
        }
        Ok(Some(
            futures_util::stream::iter(files.into_iter().flatten()).boxed(),
        ))
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let out = per_item(ctx, |i, item| {
            let property = text_param(ctx, "binaryPropertyName", i, "data")?;
            match self.operation {
                Operation::Table(format) => {
                    let options = read_options(ctx, i)?;
                    table::read_items(ctx, item, &property, format, &options, i)
                }
                operation => {
                    let value = extract_value(ctx, operation, item, &property, i)?;
                    let mut json = JsonObject::new();
                    json.insert(text_param(ctx, "destinationKey", i, "data")?, value);
                    Ok(vec![Item::new(json).paired_to(i)])
                }
            }
        })?;
        Ok(vec![out])
    }
}

/// Extract From File's table options for item `i`.
pub(crate) fn read_options(ctx: &ExecuteContext<'_>, i: usize) -> Result<ReadOptions, NodeError> {
    let delimiter = text_param(ctx, "options.delimiter", i, ",")?;
    let from_line = number_param(ctx, "options.fromLine", i, 0.0)?;
    let max_rows = number_param(ctx, "options.maxRowCount", i, -1.0)?;
    let range = match ctx.param_str("options.range", i)?.filter(|r| !r.is_empty()) {
        None => None,
        Some(text) => Some(CellRange::parse(&text).ok_or_else(|| {
            NodeError::new(format!(
                "invalid range '{text}' (expected A1 notation like A1:C10)"
            ))
            .with_parameter("options.range")
        })?),
    };
    Ok(ReadOptions {
        csv: CsvOptions {
            delimiter: single_byte(&delimiter, "options.delimiter")?,
            encoding: encoding::by_name(
                &text_param(ctx, "options.encoding", i, "utf-8")?,
                "options.encoding",
            )?,
            strip_bom: flag_param(ctx, "options.enableBOM", i, false)?,
            numbers: false,
        },
        rows: RowOptions {
            header_row: flag_param(ctx, "options.headerRow", i, true)?,
            include_empty_cells: flag_param(ctx, "options.includeEmptyCells", i, false)?,
            first_row: (from_line.max(1.0) as usize) - 1,
            max_rows: (max_rows >= 0.0).then_some(max_rows as usize),
            range,
        },
        sheet_name: ctx.param_str("options.sheetName", i)?,
        cells_as_text: flag_param(ctx, "options.rawData", i, false)?
            || flag_param(ctx, "options.readAsString", i, false)?,
    })
}

/// A one-byte delimiter (`,`, `;`, `|`, `\t`).
pub(crate) fn single_byte(text: &str, parameter: &str) -> Result<u8, NodeError> {
    let text = if text == "\\t" { "\t" } else { text };
    match text.as_bytes() {
        [byte] => Ok(*byte),
        _ => Err(
            NodeError::new(format!("the delimiter must be one character, got '{text}'"))
                .with_parameter(parameter),
        ),
    }
}

fn extract_value(
    ctx: &ExecuteContext<'_>,
    operation: Operation,
    item: &Item,
    property: &str,
    i: usize,
) -> Result<Value, NodeError> {
    let bytes = binary::read(ctx, item, property, "binaryPropertyName")?;
    if let Operation::Base64 = operation {
        return Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ));
    }
    let encoding = encoding::by_name(
        &text_param(ctx, "options.encoding", i, "utf-8")?,
        "options.encoding",
    )?;
    let text = encoding::decode(
        &bytes,
        encoding,
        flag_param(ctx, "options.stripBOM", i, true)?,
    );
    match operation {
        Operation::Json => parse_json(&text, property),
        Operation::Ics => Ok(ical::read(&text)),
        _ => Ok(Value::String(text)),
    }
}

/// JSON text, or NDJSON (one value per line) as an array.
fn parse_json(text: &str, property: &str) -> Result<Value, NodeError> {
    serde_json::from_str(text).or_else(|whole| {
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<Vec<Value>, _>>()
            .map(Value::Array)
            .map_err(|_| {
                NodeError::new(format!("binary property '{property}' is not JSON: {whole}"))
                    .with_parameter("binaryPropertyName")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_ndjson() {
        assert_eq!(parse_json("[1,2]", "data").unwrap(), json!([1, 2]));
        assert_eq!(
            parse_json("{\"a\":1}\n{\"a\":2}\n", "data").unwrap(),
            json!([{"a": 1}, {"a": 2}])
        );
        let error = parse_json("{oops", "data").unwrap_err().to_string();
        assert!(error.contains("is not JSON"), "{error}");
    }
}
