//! Spreadsheet File (`spreadsheetFile` v1, v2; legacy, replaced by Extract From File and
//! Convert to File): `fromFile` reads a table from a binary property (the format detected from
//! the file in v1, `fileFormat` in v2; v1 types numeric CSV cells as numbers unless `rawData`,
//! v2 keeps CSV text), `toFile` writes every item into one file (default name
//! `spreadsheet.<format>`).

use crate::files::extract_from_file::read_options;
use crate::files::table::{self, TableFormat, WriteOptions};
use crate::files::{file_item, flag_param, per_item};
use crate::util::binary;
use crate::util::params::text_param;
use crate::util::params::{unsupported, Reader};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, NodeDef};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.spreadsheetFile",
    versions: &[1.0, 2.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct SpreadsheetFile {
    legacy: bool,
    to_file: bool,
    /// `None`: detect the format from each file (v1, and v2's `autodetect`).
    read_format: Option<TableFormat>,
}

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let reader = Reader::fixed(params);
    let to_file = reader.choice("operation", "fromFile", |op| match op {
        "fromFile" => Some(false),
        "toFile" => Some(true),
        _ => None,
    })?;
    let legacy = def.version() < 2.0;
    let read_format = match reader.str_or("fileFormat", "autodetect")? {
        _ if legacy || to_file => None,
        "autodetect" => None,
        other => Some(TableFormat::parse(other).ok_or_else(|| unsupported("fileFormat", other))?),
    };
    Ok(Box::new(SpreadsheetFile {
        legacy,
        to_file,
        read_format,
    }))
}

#[async_trait::async_trait]
impl Node for SpreadsheetFile {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        if self.to_file {
            return Ok(vec![vec![self.write(ctx)?]]);
        }
        let out = per_item(ctx, |i, item| {
            let property = text_param(ctx, "binaryPropertyName", i, "data")?;
            let format = match self.read_format {
                Some(format) => format,
                None => {
                    TableFormat::detect(binary::property(item, &property, "binaryPropertyName")?)
                        .ok_or_else(|| {
                            NodeError::new(format!(
                            "cannot tell the spreadsheet format of binary property '{property}'"
                        ))
                            .with_parameter("fileFormat")
                        })?
                }
            };
            let mut options = read_options(ctx, i)?;
            if self.legacy {
                // SheetJS: no BOM in headers, numeric text as numbers unless raw data is asked.
                options.csv.strip_bom = true;
                options.csv.numbers = !flag_param(ctx, "options.rawData", i, false)?;
                options.cells_as_text = !options.csv.numbers;
            }
            table::read_items(ctx, item, &property, format, &options, i)
        })?;
        Ok(vec![out])
    }
}

impl SpreadsheetFile {
    fn write(&self, ctx: &ExecuteContext<'_>) -> Result<Item, NodeError> {
        let name = text_param(ctx, "fileFormat", 0, "xls")?;
        let format = TableFormat::parse(&name).ok_or_else(|| unsupported("fileFormat", &name))?;
        let default_name = format!("spreadsheet.{}", format.extension());
        let file_name = text_param(ctx, "options.fileName", 0, &default_name)?;
        let options = WriteOptions {
            delimiter: b',',
            header_row: flag_param(ctx, "options.headerRow", 0, true)?,
            sheet_name: text_param(ctx, "options.sheetName", 0, "Sheet")?,
        };
        let items = ctx.main_input();
        let entry = table::write_items(ctx, items, format, &file_name, &options)?;
        file_item(ctx, entry, 0..items.len())
    }
}
