//! Convert to File's files made of all of its items, a CSV table, a JSON array or an XLSX
//! workbook, written as the items arrive: its sink in a streamed chain (`ItemWise::Sink`) and the whole of its run
//! otherwise, so a streamed run and a whole one write the same bytes. The bytes go to the
//! execution's binary data store as they are made (a file in filesystem mode, base64 text in
//! memory mode), so no run holds the items, and in filesystem mode not the file either.

use crate::files::convert_to_file::encoding_options;
use crate::files::encoding::TextEncoder;
use crate::files::extract_from_file::single_byte;
use crate::files::table::{self, CsvWriter, TableFormat, XlsxSpool};
use crate::files::{binary_item, flag_param};
use crate::util::binary::{self, store_error, BinaryData, BinaryWriter};
use crate::util::params::text_param;
use sluice_engine::{ExecuteContext, ItemSink, NodeError, SinkOutput};
use sluice_model::{Item, JsonObject};
use std::io::{self, Write};

/// The files Convert to File writes as the items arrive.
#[derive(Clone, Copy)]
pub enum SinkFormat {
    /// `csv`.
    Csv,
    /// `toJson` in `once` mode.
    JsonArray,
    /// `xlsx`.
    Xlsx,
}

/// One file being made of every item pushed to it.
pub struct FileSink {
    body: Body,
    /// The output item's binary property.
    property: String,
    /// The file's metadata, for a CSV file written again.
    metadata: JsonObject,
    store: BinaryData,
    execution_id: String,
    /// Items pushed so far: the output item pairs with each of them.
    items: usize,
}

/// The writer of the file's bytes (boxed: writers hold their buffers inline).
enum Body {
    Csv {
        writer: Box<CsvWriter<BinaryWriter>>,
        delimiter: u8,
        header_row: bool,
    },
    Json(Box<JsonArrayWriter<BinaryWriter>>),
    Xlsx {
        spool: Box<XlsxSpool>,
        out: BinaryWriter,
        sheet_name: String,
        header_row: bool,
    },
}

impl FileSink {
    /// A sink for `format` with the options of `ctx`'s first item (as a run on all items takes
    /// them).
    pub fn new(ctx: &ExecuteContext<'_>, format: SinkFormat) -> Result<FileSink, NodeError> {
        let property = text_param(ctx, "binaryPropertyName", 0, "data")?;
        let store = ctx.binary_data().clone();
        let execution_id = ctx.execution_id().to_string();
        let mut metadata = JsonObject::new();
        // The file in the store, made once the format's own options were read (a writer
        // dropped unfinished removes its file).
        let mut open = |default_name: &str, mime_type: &str| {
            let file_name = text_param(ctx, "options.fileName", 0, default_name)?;
            metadata = binary::metadata(Some(&file_name), mime_type);
            store
                .writer(&execution_id, metadata.clone())
                .map_err(store_error)
        };
        let body = match format {
            SinkFormat::Csv => {
                let delimiter = single_byte(
                    &text_param(ctx, "options.delimiter", 0, ",")?,
                    "options.delimiter",
                )?;
                let header_row = flag_param(ctx, "options.headerRow", 0, true)?;
                let out = open("file.csv", TableFormat::Csv.mime_type())?;
                Body::Csv {
                    writer: Box::new(
                        CsvWriter::new(out, delimiter, header_row).map_err(store_error)?,
                    ),
                    delimiter,
                    header_row,
                }
            }
            SinkFormat::JsonArray => {
                let (encoding, add_bom) = encoding_options(ctx, 0)?;
                let pretty = flag_param(ctx, "options.format", 0, false)?;
                let out = open("file.json", "application/json")?;
                let out = TextEncoder::new(out, encoding, add_bom).map_err(store_error)?;
                Body::Json(Box::new(
                    JsonArrayWriter::new(out, pretty).map_err(store_error)?,
                ))
            }
            SinkFormat::Xlsx => Body::Xlsx {
                sheet_name: text_param(ctx, "options.sheetName", 0, "Sheet")?,
                header_row: flag_param(ctx, "options.headerRow", 0, true)?,
                spool: Box::new(XlsxSpool::new().map_err(store_error)?),
                out: open("file.xlsx", TableFormat::Xlsx.mime_type())?,
            },
        };
        Ok(FileSink {
            body,
            property,
            metadata,
            store,
            execution_id,
            items: 0,
        })
    }
}

#[async_trait::async_trait]
impl ItemSink for FileSink {
    async fn push(&mut self, ctx: &ExecuteContext<'_>) -> Result<(), NodeError> {
        let items = ctx.main_input();
        self.items += items.len();
        let written = match &mut self.body {
            Body::Csv { writer, .. } => writer.push(items),
            Body::Json(writer) => writer.push(items),
            Body::Xlsx { spool, .. } => spool.push(items),
        };
        written.map_err(store_error)
    }

    async fn finish(self: Box<Self>) -> Result<SinkOutput, NodeError> {
        let FileSink {
            body,
            property,
            metadata,
            store,
            execution_id,
            items,
        } = *self;
        let entry = match body {
            Body::Csv {
                writer,
                delimiter,
                header_row,
            } => {
                let written = writer.finish().map_err(store_error)?;
                let entry = written.out.finish().map_err(store_error)?;
                match written.grown_columns {
                    None => entry,
                    Some(columns) => {
                        let out = store.writer(&execution_id, metadata).map_err(store_error)?;
                        rewrite_under(&store, entry, out, columns, delimiter, header_row)
                            .map_err(store_error)?
                    }
                }
            }
            Body::Json(writer) => writer
                .finish()
                .and_then(BinaryWriter::finish)
                .map_err(store_error)?,
            Body::Xlsx {
                spool,
                mut out,
                sheet_name,
                header_row,
            } => {
                spool.finish(&sheet_name, header_row, &mut out)?;
                out.finish().map_err(store_error)?
            }
        };
        Ok(SinkOutput::Outputs(vec![vec![binary_item(
            property,
            entry,
            0..items,
        )]]))
    }
}

/// Items' JSON as one JSON array written an item at a time: the text `serde_json` writes for
/// the whole array, compact or pretty (two-space indents).
struct JsonArrayWriter<W> {
    out: TextEncoder<W>,
    pretty: bool,
    empty: bool,
}

impl<W: Write> JsonArrayWriter<W> {
    fn new(mut out: TextEncoder<W>, pretty: bool) -> io::Result<Self> {
        out.write_str("[")?;
        Ok(JsonArrayWriter {
            out,
            pretty,
            empty: true,
        })
    }

    fn push(&mut self, items: &[Item]) -> io::Result<()> {
        for item in items {
            let first = std::mem::replace(&mut self.empty, false);
            if self.pretty {
                // An element's lines one level in: a pretty value has no raw line break but
                // those between its tokens.
                let text = serde_json::to_string_pretty(&*item.json)?;
                self.out.write_str(if first { "\n  " } else { ",\n  " })?;
                self.out.write_str(&text.replace('\n', "\n  "))?;
            } else {
                if !first {
                    self.out.write_str(",")?;
                }
                self.out.write_str(&serde_json::to_string(&*item.json)?)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.out.write_str(if self.pretty && !self.empty {
            "\n]"
        } else {
            "]"
        })?;
        self.out.finish()
    }
}

/// Rows were written under fewer columns than the items had in the end: the CSV file of
/// `entry` written again into `out` under all of `columns`, and the first file removed (also
/// when the rewrite fails, so that no file nothing refers to is left).
fn rewrite_under(
    store: &BinaryData,
    entry: JsonObject,
    out: BinaryWriter,
    columns: Vec<String>,
    delimiter: u8,
    header_row: bool,
) -> io::Result<JsonObject> {
    let rewritten = store
        .open(&entry)
        .and_then(|first| table::rewrite_csv(first, out, columns, delimiter, header_row))
        .and_then(BinaryWriter::finish);
    let removed = store.remove(&entry);
    let rewritten = rewritten?;
    removed.map(|()| rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn json_arrays_written_in_chunks_equal_serde_json_on_the_whole_array() {
        let values = [
            json!({"a": 1, "b": "two\nlines", "c": [1, {"d": null}], "e": {}}),
            json!({}),
            json!({"f": [], "g": {"h": [true, 1.5]}}),
        ];
        let items: Vec<Item> = values
            .iter()
            .map(|v| Item::new(v.as_object().unwrap().clone()))
            .collect();
        for count in 0..=items.len() {
            let whole = Value::Array(values[..count].to_vec());
            for pretty in [false, true] {
                let expected = if pretty {
                    serde_json::to_string_pretty(&whole)
                } else {
                    serde_json::to_string(&whole)
                }
                .unwrap();
                for chunk in 1..=count.max(1) {
                    let out = TextEncoder::new(Vec::new(), encoding_rs::UTF_8, false).unwrap();
                    let mut writer = JsonArrayWriter::new(out, pretty).unwrap();
                    for items in items[..count].chunks(chunk) {
                        writer.push(items).unwrap();
                    }
                    let written = String::from_utf8(writer.finish().unwrap()).unwrap();
                    assert_eq!(written, expected, "{count} items, pretty {pretty}");
                }
            }
        }
    }
}
