//! Tables in files, shared by Extract From File, Convert to File and Spreadsheet File: rows read
//! from CSV (streamed record by record), from a spreadsheet (XLSX, XLS, ODS through calamine) or
//! from an HTML or RTF table
//! become items with n8n's row options (header row, empty cells, first line, row limit, A1
//! range); items become CSV (written a chunk of items at a time, `CsvWriter`), XLSX
//! (rust_xlsxwriter), XLS, ODS, HTML or RTF with a header of every key.

use crate::files::encoding::{self, UTF8_BOM};
use crate::files::xlsx_rows::xlsx_rows;
use crate::files::{html_table, ods, rtf_table, xls};
use crate::util::binary;
use crate::util::values::{as_text, is_empty};
use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::{Item, ItemJson, JsonObject, Value};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};

/// One row of cells; `Value::Null` is an empty cell.
pub type Row = Vec<Value>;

/// A file's rows as they are read.
pub type RowIter<'a> = Box<dyn Iterator<Item = Result<Row, NodeError>> + Send + 'a>;

/// How CSV text is parsed.
pub struct CsvOptions {
    pub delimiter: u8,
    pub encoding: &'static encoding_rs::Encoding,
    /// Drop a leading UTF-8 byte order mark; when false it stays in the first header.
    pub strip_bom: bool,
    /// Numeric text becomes numbers (the legacy Spreadsheet File v1 reads).
    pub numbers: bool,
}

/// How rows become items.
#[derive(Clone, Default)]
pub struct RowOptions {
    pub header_row: bool,
    pub include_empty_cells: bool,
    /// Rows before this one (0-based) are skipped (n8n's 1-based `fromLine` minus one).
    pub first_row: usize,
    pub max_rows: Option<usize>,
    pub range: Option<CellRange>,
}

/// An A1-style range (`A2:B3`), 0-based and inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellRange {
    pub first_row: usize,
    pub first_col: usize,
    pub last_row: usize,
    pub last_col: usize,
}

impl CellRange {
    /// `A2:B3`, or one cell `C4`; `None` when it is not A1 notation.
    pub fn parse(text: &str) -> Option<CellRange> {
        let (from, to) = text.split_once(':').unwrap_or((text, text));
        let (first_row, first_col) = cell(from.trim())?;
        let (last_row, last_col) = cell(to.trim())?;
        Some(CellRange {
            first_row,
            first_col,
            last_row,
            last_col,
        })
    }
}

/// `B3` as (row 2, column 1).
fn cell(text: &str) -> Option<(usize, usize)> {
    let text = text.replace('$', "");
    let split = text.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = text.split_at(split);
    if letters.is_empty() || !letters.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let col = letters
        .to_ascii_uppercase()
        .bytes()
        .fold(0usize, |acc, b| acc * 26 + (b - b'A' + 1) as usize);
    let row: usize = digits.parse().ok()?;
    (row > 0).then(|| (row - 1, col - 1))
}

/// The rows of CSV read from `reader`, one record at a time.
pub fn csv_rows<'a>(
    reader: impl Read + Send + 'a,
    options: &CsvOptions,
) -> Result<RowIter<'a>, NodeError> {
    let mut reader = BufReader::new(reader);
    let input: Box<dyn Read + Send + 'a> = if options.encoding == encoding_rs::UTF_8 {
        Box::new(reader)
    } else {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| NodeError::new(format!("could not read the file: {e}")))?;
        let text = encoding::decode(&bytes, options.encoding, options.strip_bom);
        Box::new(std::io::Cursor::new(text.into_bytes()))
    };
    let mut input = BufReader::new(input);
    // The csv crate always drops a leading BOM; n8n keeps it in the first header unless asked.
    let keep_bom = !options.strip_bom
        && input
            .fill_buf()
            .map(|b| b.starts_with(UTF8_BOM))
            .unwrap_or(false);
    let records = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input)
        .into_records();
    let numbers = options.numbers;
    let mut first = true;
    Ok(Box::new(records.map(move |record| {
        let record = record.map_err(|e| NodeError::new(format!("invalid CSV: {e}")))?;
        let mut row: Row = record
            .iter()
            .map(|field| csv_cell(field, numbers))
            .collect();
        if std::mem::take(&mut first) && keep_bom {
            if let Some(Value::String(s)) = row.first_mut() {
                s.insert(0, '\u{feff}');
            }
        }
        Ok(row)
    })))
}

fn csv_cell(field: &str, numbers: bool) -> Value {
    if field.is_empty() {
        Value::Null
    } else if numbers {
        typed_text(field)
    } else {
        Value::String(field.to_string())
    }
}

/// A cell's text typed the way spreadsheet readers type untyped text: numbers as numbers, empty
/// as an empty cell, the rest as text.
pub fn typed_text(text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    numeric(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// Numeric text as a JSON number (integers stay integers).
fn numeric(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('+') || trimmed.ends_with('.') {
        return None;
    }
    if let Ok(n) = trimmed.parse::<i64>() {
        return Some(Value::from(n));
    }
    let f: f64 = trimmed.parse().ok().filter(|f: &f64| f.is_finite())?;
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// The rows of a sheet of an XLSX, XLS or ODS file (`sheet` by name, else the first), with
/// cells at their absolute positions.
pub fn sheet_rows(
    bytes: Vec<u8>,
    sheet: Option<&str>,
    cells_as_text: bool,
) -> Result<Vec<Row>, NodeError> {
    use calamine::Reader as _;
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| NodeError::new(format!("not a spreadsheet file: {e}")))?;
    let range = match sheet.filter(|s| !s.is_empty()) {
        Some(name) => workbook.worksheet_range(name).map_err(|e| {
            NodeError::new(format!("sheet '{name}': {e}")).with_parameter("options.sheetName")
        })?,
        None => workbook
            .worksheet_range_at(0)
            .ok_or_else(|| NodeError::new("the spreadsheet has no sheets"))?
            .map_err(|e| NodeError::new(format!("could not read the spreadsheet: {e}")))?,
    };
    let (start_row, start_col) = range
        .start()
        .map(|(r, c)| (r as usize, c as usize))
        .unwrap_or((0, 0));
    let mut rows = vec![Row::new(); start_row];
    for cells in range.rows() {
        let mut row = vec![Value::Null; start_col];
        row.extend(cells.iter().map(|c| sheet_cell(c, cells_as_text)));
        rows.push(row);
    }
    Ok(rows)
}

pub(crate) fn sheet_cell(cell: &calamine::Data, cells_as_text: bool) -> Value {
    use calamine::Data;
    let value = match cell {
        Data::Empty => return Value::Null,
        Data::Int(i) => Value::from(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Value::from(*f as i64),
        Data::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Data::String(s) => Value::String(s.clone()),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(d) => {
            let (year, month, day, hour, minute, second, milli) = d.to_ymd_hms_milli();
            Value::String(format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"
            ))
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Value::String(s.clone()),
        Data::Error(e) => Value::String(format!("#{e:?}")),
    };
    match value {
        Value::String(_) | Value::Null => value,
        other if cells_as_text => Value::String(as_text(&other)),
        other => other,
    }
}

/// Items from rows: keyed by the header row, or `{row: [...]}` without one.
pub fn rows_to_items(
    rows: impl Iterator<Item = Result<Row, NodeError>> + Send,
    options: &RowOptions,
    paired_to: usize,
) -> Result<Vec<Item>, NodeError> {
    row_items(rows, options.clone(), paired_to).collect()
}

/// [`rows_to_items`] one item at a time, as the rows are read (a streamed CSV file).
pub fn row_items<'a>(
    mut rows: impl Iterator<Item = Result<Row, NodeError>> + Send + 'a,
    options: RowOptions,
    paired_to: usize,
) -> impl Iterator<Item = Result<Item, NodeError>> + Send + 'a {
    let mut header: Option<Vec<String>> = None;
    let mut index = 0usize;
    let mut produced = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            let row = match rows.next()? {
                Ok(row) => row,
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            };
            index += 1;
            let row_index = index - 1;
            if row_index < options.first_row {
                continue;
            }
            let row = match &options.range {
                Some(range) if row_index < range.first_row => continue,
                Some(range) if row_index > range.last_row => break,
                Some(range) => row
                    .into_iter()
                    .skip(range.first_col)
                    .take(range.last_col + 1 - range.first_col)
                    .collect(),
                None => row,
            };
            if row.iter().all(|v| is_empty(Some(v))) {
                continue;
            }
            if options.header_row && header.is_none() {
                header = Some(row.iter().map(as_text).collect());
                continue;
            }
            if options.max_rows.is_some_and(|max| produced >= max) {
                break;
            }
            produced += 1;
            let json = row_json(row, header.as_deref(), options.include_empty_cells);
            return Some(Ok(Item::new(json).paired_to(paired_to)));
        }
        done = true;
        None
    })
}

/// One row as an item's JSON: keyed by `header`, or `{row: [...]}` without one.
fn row_json(row: Row, header: Option<&[String]>, include_empty_cells: bool) -> JsonObject {
    let mut json = JsonObject::new();
    match header {
        Some(keys) => {
            for (i, key) in keys.iter().enumerate() {
                let value = row.get(i).cloned().unwrap_or(Value::Null);
                if is_empty(Some(&value)) {
                    if include_empty_cells {
                        json.insert(key.clone(), Value::String(String::new()));
                    }
                } else {
                    json.insert(key.clone(), value);
                }
            }
        }
        None => {
            let cells = row
                .into_iter()
                .map(|v| {
                    if v.is_null() {
                        Value::String(String::new())
                    } else {
                        v
                    }
                })
                .collect();
            json.insert("row".into(), Value::Array(cells));
        }
    }
    json
}

/// The columns of a table of `items`: every key, in the order they first appear.
pub fn columns(items: &[Item]) -> Vec<String> {
    let mut columns = Columns::default();
    columns.add(items);
    columns.names
}

/// Column names gathered from items: every key, in the order they first appear.
#[derive(Default)]
struct Columns {
    names: Vec<String>,
    seen: HashSet<String>,
}

impl Columns {
    fn add(&mut self, items: &[Item]) {
        for item in items {
            for key in item.json.keys() {
                if !self.seen.contains(key) {
                    self.seen.insert(key.clone());
                    self.names.push(key.clone());
                }
            }
        }
    }
}

/// A cell's text in a written file (objects and arrays as JSON).
fn cell_text(value: Option<&Value>) -> String {
    value.map(as_text).unwrap_or_default()
}

/// Write `items` as CSV to `out` the way n8n does: a UTF-8 byte order mark, a header of every
/// key (unless `header_row` is off), `\n` between records and none after the last.
pub fn write_csv(
    items: &[Item],
    delimiter: u8,
    header_row: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut writer = CsvWriter::new(out, delimiter, header_row)?;
    // One push of every item knows every column: nothing to rewrite.
    writer.push(items)?;
    writer.finish().map(drop)
}

/// [`write_csv`] a chunk of items at a time.
///
/// The header holds every key of every item, so it is only known at the end. Rows are written
/// under the columns known when their chunk arrives (every key of it and of the chunks before);
/// a key first seen later is a new column at the end, which the earlier rows lack. `finish` then
/// hands back the full header, and [`rewrite_csv`] writes the file again under it, the earlier
/// rows given empty cells at their end: the file [`write_csv`] gives for all of the items, at the
/// cost of a second pass only when the columns grew. Items with no keys that come before any
/// column is known are counted and written once the columns are (their rows are empty cells
/// whatever the header).
pub struct CsvWriter<W: Write> {
    writer: csv::Writer<HeldBackNewline<W>>,
    header_row: bool,
    columns: Columns,
    /// How many columns the header and rows had when writing began (`None` before).
    started_with: Option<usize>,
    keyless_rows: usize,
}

/// What a finished [`CsvWriter`] leaves.
pub struct CsvWritten<W> {
    pub out: W,
    /// Every column, when rows were written under fewer: the file needs [`rewrite_csv`].
    pub grown_columns: Option<Vec<String>>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut out: W, delimiter: u8, header_row: bool) -> std::io::Result<Self> {
        out.write_all(UTF8_BOM)?;
        let writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            // Rows written before the columns grew are shorter.
            .flexible(true)
            .from_writer(HeldBackNewline::new(out));
        Ok(CsvWriter {
            writer,
            header_row,
            columns: Columns::default(),
            started_with: None,
            keyless_rows: 0,
        })
    }

    /// Write the rows of the next chunk of items.
    pub fn push(&mut self, items: &[Item]) -> std::io::Result<()> {
        self.columns.add(items);
        if self.columns.names.is_empty() {
            self.keyless_rows += items.len();
            return Ok(());
        }
        self.start()?;
        for item in items {
            self.writer.write_record(
                self.columns
                    .names
                    .iter()
                    .map(|c| cell_text(item.json.get(c))),
            )?;
        }
        Ok(())
    }

    /// The header and the keyless rows, once.
    fn start(&mut self) -> std::io::Result<()> {
        if self.started_with.is_some() {
            return Ok(());
        }
        let columns = &self.columns.names;
        self.started_with = Some(columns.len());
        if self.header_row {
            self.writer.write_record(columns)?;
        }
        for _ in 0..self.keyless_rows {
            self.writer.write_record(columns.iter().map(|_| ""))?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<CsvWritten<W>> {
        self.start()?;
        self.writer.flush()?;
        let grown = self.started_with < Some(self.columns.names.len());
        let out = self.writer.into_inner().map_err(|e| e.into_error())?.inner;
        Ok(CsvWritten {
            out,
            grown_columns: grown.then_some(self.columns.names),
        })
    }
}

/// CSV a [`CsvWriter`] wrote (read from `written`) written again to `out` under all of
/// `columns`, each row given the empty cells it lacks at its end.
pub fn rewrite_csv<W: Write>(
    written: impl Read,
    out: W,
    columns: Vec<String>,
    delimiter: u8,
    header_row: bool,
) -> std::io::Result<W> {
    // The reader drops the byte order mark the writer put first.
    let mut records = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(written)
        .into_byte_records();
    if header_row {
        records.next().transpose()?;
    }
    let mut writer = CsvWriter::new(out, delimiter, header_row)?;
    let width = columns.len();
    writer.columns.names = columns;
    writer.start()?;
    for record in records {
        let record = record?;
        let missing = width.saturating_sub(record.len());
        writer
            .writer
            .write_record(record.iter().chain(std::iter::repeat_n(&b""[..], missing)))?;
    }
    Ok(writer.finish()?.out)
}

/// Passes bytes on, holding back a trailing `\n` until more follows, so the last record has no
/// line end.
struct HeldBackNewline<W> {
    inner: W,
    pending: bool,
}

impl<W> HeldBackNewline<W> {
    fn new(inner: W) -> Self {
        HeldBackNewline {
            inner,
            pending: false,
        }
    }
}

impl<W: Write> Write for HeldBackNewline<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if std::mem::take(&mut self.pending) {
            self.inner.write_all(b"\n")?;
        }
        let (body, held) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (buf, false),
        };
        self.inner.write_all(body)?;
        self.pending = held;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `items` as an XLSX workbook with one sheet named `sheet_name`.
pub fn write_xlsx(
    items: &[Item],
    sheet_name: &str,
    header_row: bool,
) -> Result<Vec<u8>, NodeError> {
    let columns = columns(items);
    let mut sheet = XlsxSheet::new(sheet_name, &columns, header_row)?;
    for item in items {
        sheet.write_row(&columns, &item.json)?;
    }
    let mut bytes = Vec::new();
    sheet.save(&mut bytes)?;
    Ok(bytes)
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> NodeError {
    NodeError::new(format!("could not write XLSX: {e}"))
}

/// An XLSX workbook of one sheet written a row at a time, in rust_xlsxwriter's constant-memory
/// mode: each row goes to a temporary file once the next one starts, so a large sheet is never
/// held whole (strings are written inline, not in a shared table).
struct XlsxSheet {
    workbook: rust_xlsxwriter::Workbook,
    next_row: u32,
}

impl XlsxSheet {
    /// A sheet named `sheet_name` starting with a header of `columns` when `header_row` is set.
    fn new(sheet_name: &str, columns: &[String], header_row: bool) -> Result<Self, NodeError> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        sheet.set_name(sheet_name).map_err(|e| {
            NodeError::new(format!("invalid sheet name: {e}")).with_parameter("options.sheetName")
        })?;
        let mut next_row = 0;
        if header_row {
            for (col, name) in columns.iter().enumerate() {
                sheet
                    .write_string(next_row, col as u16, name)
                    .map_err(xlsx_error)?;
            }
            next_row += 1;
        }
        Ok(XlsxSheet { workbook, next_row })
    }

    /// The next row: `json`'s value of each of `columns` (numbers and booleans as such, objects
    /// and arrays as JSON text, nothing for missing and null values).
    fn write_row(&mut self, columns: &[String], json: &ItemJson) -> Result<(), NodeError> {
        let sheet = self.workbook.worksheet_from_index(0).map_err(xlsx_error)?;
        let row = self.next_row;
        for (col, name) in columns.iter().enumerate() {
            let col = col as u16;
            let written = match json.get(name) {
                None | Some(Value::Null) => continue,
                Some(Value::Number(n)) => sheet.write_number(row, col, n.as_f64().unwrap_or(0.0)),
                Some(Value::Bool(b)) => sheet.write_boolean(row, col, *b),
                Some(other) => sheet.write_string(row, col, cell_text(Some(other))),
            };
            written.map_err(xlsx_error)?;
        }
        self.next_row += 1;
        Ok(())
    }

    fn save(mut self, out: impl Write + Send) -> Result<(), NodeError> {
        self.workbook.save_to_writer(out).map_err(xlsx_error)
    }
}

/// [`write_xlsx`] a chunk of items at a time. The header holds every key of every item, which
/// is only known at the end, and a constant-memory sheet is written from its first row on: so
/// the items' JSON waits in an unnamed temporary file (a line each) while the columns are
/// gathered, and `finish` writes the workbook from it. Neither step holds the items.
pub struct XlsxSpool {
    rows: std::io::BufWriter<std::fs::File>,
    columns: Columns,
}

impl XlsxSpool {
    pub fn new() -> std::io::Result<Self> {
        Ok(XlsxSpool {
            rows: std::io::BufWriter::new(tempfile::tempfile()?),
            columns: Columns::default(),
        })
    }

    pub fn push(&mut self, items: &[Item]) -> std::io::Result<()> {
        self.columns.add(items);
        for item in items {
            serde_json::to_writer(&mut self.rows, &*item.json)?;
            self.rows.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The workbook of every item pushed, written to `out`.
    pub fn finish(
        self,
        sheet_name: &str,
        header_row: bool,
        out: impl Write + Send,
    ) -> Result<(), NodeError> {
        let columns = self.columns.names;
        let mut sheet = XlsxSheet::new(sheet_name, &columns, header_row)?;
        let spooled = |e: std::io::Error| NodeError::new(format!("could not write XLSX: {e}"));
        let mut file = self
            .rows
            .into_inner()
            .map_err(|e| spooled(e.into_error()))?;
        std::io::Seek::rewind(&mut file).map_err(spooled)?;
        for line in BufReader::new(file).lines() {
            let json: ItemJson =
                serde_json::from_str(&line.map_err(spooled)?).map_err(|e| spooled(e.into()))?;
            sheet.write_row(&columns, &json)?;
        }
        sheet.save(out)
    }
}

/// The file formats of tables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TableFormat {
    Csv,
    Xlsx,
    Xls,
    Ods,
    Html,
    Rtf,
}

impl TableFormat {
    /// A format by n8n's operation / `fileFormat` name or a file extension.
    pub fn parse(name: &str) -> Option<TableFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "csv" => TableFormat::Csv,
            "xlsx" => TableFormat::Xlsx,
            "xls" => TableFormat::Xls,
            "ods" => TableFormat::Ods,
            "html" => TableFormat::Html,
            "rtf" => TableFormat::Rtf,
            _ => return None,
        })
    }

    /// The format of a binary property by its extension, name or MIME type (Spreadsheet File's
    /// autodetection).
    pub fn detect(entry: &JsonObject) -> Option<TableFormat> {
        let text = |key: &str| entry.get(key).and_then(Value::as_str);
        text("fileExtension")
            .and_then(TableFormat::parse)
            .or_else(|| {
                text("fileName")
                    .and_then(|n| n.rsplit_once('.'))
                    .and_then(|(_, ext)| TableFormat::parse(ext))
            })
            .or_else(|| match text("mimeType")? {
                "text/csv" | "text/plain" => Some(TableFormat::Csv),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                    Some(TableFormat::Xlsx)
                }
                "application/vnd.ms-excel" => Some(TableFormat::Xls),
                "application/vnd.oasis.opendocument.spreadsheet" => Some(TableFormat::Ods),
                "text/html" => Some(TableFormat::Html),
                "application/rtf" | "text/rtf" => Some(TableFormat::Rtf),
                _ => None,
            })
    }

    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Xlsx => "xlsx",
            TableFormat::Xls => "xls",
            TableFormat::Ods => "ods",
            TableFormat::Html => "html",
            TableFormat::Rtf => "rtf",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            TableFormat::Csv => "text/csv",
            TableFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            TableFormat::Xls => "application/vnd.ms-excel",
            TableFormat::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            TableFormat::Html => "text/html",
            TableFormat::Rtf => "application/rtf",
        }
    }
}

/// How a table is read from a file.
pub struct ReadOptions {
    pub csv: CsvOptions,
    pub rows: RowOptions,
    pub sheet_name: Option<String>,
    /// Spreadsheet cells as their text (`rawData` / `readAsString`).
    pub cells_as_text: bool,
}

/// The items of the table in binary property `property` of `item` (input item `i`).
pub fn read_items(
    ctx: &ExecuteContext<'_>,
    item: &Item,
    property: &str,
    format: TableFormat,
    options: &ReadOptions,
    i: usize,
) -> Result<Vec<Item>, NodeError> {
    let reader = binary::open(ctx, item, property, "binaryPropertyName")?;
    if format == TableFormat::Csv {
        return rows_to_items(csv_rows(reader, &options.csv)?, &options.rows, i);
    }
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| NodeError::new(format!("binary property '{property}' cannot be read: {e}")))?;
    let rows = match format {
        TableFormat::Html => html_table::read(&String::from_utf8_lossy(&bytes)),
        TableFormat::Rtf => rtf_table::read(&String::from_utf8_lossy(&bytes)),
        TableFormat::Xlsx => {
            let rows = xlsx_rows(bytes, options.sheet_name.as_deref(), options.cells_as_text)?;
            return rows_to_items(rows, &options.rows, i);
        }
        _ => sheet_rows(bytes, options.sheet_name.as_deref(), options.cells_as_text)?,
    };
    rows_to_items(rows.into_iter().map(Ok), &options.rows, i)
}

/// How items are written as a table.
pub struct WriteOptions {
    pub delimiter: u8,
    pub header_row: bool,
    pub sheet_name: String,
}

/// The binary property holding `items` as a `format` file named `file_name`.
pub fn write_items(
    ctx: &ExecuteContext<'_>,
    items: &[Item],
    format: TableFormat,
    file_name: &str,
    options: &WriteOptions,
) -> Result<JsonObject, NodeError> {
    let metadata = binary::metadata(Some(file_name), format.mime_type());
    match format {
        TableFormat::Csv => binary::store_with(ctx, metadata, |out| {
            write_csv(items, options.delimiter, options.header_row, out)
        }),
        TableFormat::Xlsx => {
            let bytes = write_xlsx(items, &options.sheet_name, options.header_row)?;
            binary::store(ctx, &bytes, metadata)
        }
        TableFormat::Xls | TableFormat::Ods | TableFormat::Html | TableFormat::Rtf => {
            let rows = grid(items, options.header_row);
            let bytes = match format {
                TableFormat::Xls => xls::write(&rows, &options.sheet_name)?,
                TableFormat::Ods => ods::write(&rows, &options.sheet_name)?,
                TableFormat::Html => html_table::write(&rows),
                _ => rtf_table::write(&rows),
            };
            binary::store(ctx, &bytes, metadata)
        }
    }
}

/// `items` as rows of cells under a header of every key (without it when `header_row` is off).
fn grid(items: &[Item], header_row: bool) -> Vec<Row> {
    let columns = columns(items);
    let mut rows = Vec::with_capacity(items.len() + 1);
    if header_row {
        rows.push(columns.iter().map(|c| Value::String(c.clone())).collect());
    }
    for item in items {
        rows.push(
            columns
                .iter()
                .map(|c| match item.json.get(c) {
                    None => Value::Null,
                    Some(v @ (Value::Array(_) | Value::Object(_))) => Value::String(v.to_string()),
                    Some(v) => v.clone(),
                })
                .collect(),
        );
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn csv(text: &str, strip_bom: bool, numbers: bool) -> Vec<Row> {
        let options = CsvOptions {
            delimiter: b',',
            encoding: encoding_rs::UTF_8,
            strip_bom,
            numbers,
        };
        csv_rows(text.as_bytes(), &options)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn ranges_in_a1_notation() {
        let range = CellRange::parse("A2:B3").unwrap();
        assert_eq!(
            (
                range.first_row,
                range.first_col,
                range.last_row,
                range.last_col
            ),
            (1, 0, 2, 1)
        );
        assert_eq!(CellRange::parse("AA10").unwrap().first_col, 26);
        assert!(CellRange::parse("2:3").is_none());
    }

    #[test]
    fn csv_keeps_or_strips_the_bom_and_types_numbers_on_request() {
        assert_eq!(
            csv("\u{feff}a,b\n1,x", false, false)[0][0],
            json!("\u{feff}a")
        );
        assert_eq!(csv("\u{feff}a,b\n1,x", true, false)[0][0], json!("a"));
        assert_eq!(csv("a,b\n1,x", true, true)[1], vec![json!(1), json!("x")]);
    }

    /// `items` written a `chunk` at a time, written again when the columns grew.
    fn chunked_csv(items: &[Item], chunk: usize, delimiter: u8, header_row: bool) -> Vec<u8> {
        let mut writer = CsvWriter::new(Vec::new(), delimiter, header_row).unwrap();
        for items in items.chunks(chunk) {
            writer.push(items).unwrap();
        }
        let written = writer.finish().unwrap();
        match written.grown_columns {
            None => written.out,
            Some(columns) => rewrite_csv(
                written.out.as_slice(),
                Vec::new(),
                columns,
                delimiter,
                header_row,
            )
            .unwrap(),
        }
    }

    #[test]
    fn csv_written_in_chunks_equals_csv_written_at_once() {
        let item = |value: serde_json::Value| Item::new(value.as_object().unwrap().clone());
        let tables = [
            // Keyless items first, columns growing, text needing quotes.
            vec![
                item(json!({})),
                item(json!({})),
                item(json!({"a": 1})),
                item(json!({"b": "x,y", "a": 2})),
                item(json!({"c": ""})),
                item(json!({"a": "line\nbreak", "d": "say \"hi\""})),
                item(json!({})),
                item(json!({"e": {"nested": [1, 2]}, "a": null})),
            ],
            // A first cell starting with a byte order mark, under no header.
            vec![item(json!({"a": "\u{feff}x"})), item(json!({"b": 1}))],
            // Rows of one empty cell.
            vec![
                item(json!({"a": ""})),
                item(json!({"a": ""})),
                item(json!({"b": ""})),
            ],
            // Nothing but keyless items.
            vec![item(json!({})), item(json!({}))],
            vec![],
        ];
        for items in &tables {
            for (delimiter, header_row) in [(b',', true), (b';', false), (b'\t', true)] {
                let mut whole = Vec::new();
                write_csv(items, delimiter, header_row, &mut whole).unwrap();
                for chunk in 1..=items.len().max(1) {
                    assert_eq!(
                        String::from_utf8(chunked_csv(items, chunk, delimiter, header_row)),
                        String::from_utf8(whole.clone()),
                        "chunks of {chunk}, header {header_row}"
                    );
                }
            }
        }
    }

    #[test]
    fn csv_output_has_a_bom_and_no_final_newline() {
        let items = vec![
            Item::new(json!({"A": 1, "B": "x,y"}).as_object().unwrap().clone()),
            Item::new(json!({"A": 2, "C": true}).as_object().unwrap().clone()),
        ];
        let mut out = Vec::new();
        write_csv(&items, b',', true, &mut out).unwrap();
        assert_eq!(out, "\u{feff}A,B,C\n1,\"x,y\",\n2,,true".as_bytes());
    }
}
