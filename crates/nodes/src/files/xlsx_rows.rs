//! XLSX sheets read a row at a time: calamine's whole-sheet range holds every cell of a sheet at
//! once (hundreds of megabytes for a sheet of a million rows), so an XLSX file's rows are read
//! with its cell reader instead, in two passes over the sheet: the first finds the bounds of the
//! non-empty cells (which the rows' widths depend on), the second hands out the rows as it reads
//! them. The rows equal [`table::sheet_rows`]'s for the same file.

use crate::files::table::{self, sheet_cell, Row, RowIter};
use calamine::{DataRef, Reader as _, Xlsx};
use serde_json::Value;
use sluice_engine::NodeError;
use std::io::Cursor;
use std::sync::{mpsc, Arc};

/// An XLSX file read from memory.
type Workbook = Xlsx<Cursor<Arc<[u8]>>>;

/// Rows read ahead of the node taking them.
const ROWS_AHEAD: usize = 256;

/// The rows of sheet `sheet` (the first when `None` or empty) of the XLSX file `bytes`, read as
/// they are taken, from a thread of their own that stops when they are no longer wanted. A file
/// that is no XLSX file (an XLS or ODS file read as one) is read whole, as calamine tells.
pub fn xlsx_rows(
    bytes: Vec<u8>,
    sheet: Option<&str>,
    cells_as_text: bool,
) -> Result<RowIter<'static>, NodeError> {
    let bytes: Arc<[u8]> = bytes.into();
    let Ok(mut workbook) = Xlsx::new(Cursor::new(bytes.clone())) else {
        let rows = table::sheet_rows(bytes.to_vec(), sheet, cells_as_text)?;
        return Ok(Box::new(rows.into_iter().map(Ok)));
    };
    drop(bytes);
    let name = match sheet.filter(|s| !s.is_empty()) {
        Some(name) => name.to_string(),
        None => workbook
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| NodeError::new("the spreadsheet has no sheets"))?,
    };
    let named = sheet.is_some_and(|s| !s.is_empty());
    let Some(bounds) = bounds(&mut workbook, &name).map_err(|e| sheet_error(e, named, &name))?
    else {
        return Ok(Box::new(std::iter::empty()));
    };
    let (rows, taken) = mpsc::sync_channel(ROWS_AHEAD);
    std::thread::spawn(move || {
        if let Err(e) = send_rows(&mut workbook, &name, &bounds, cells_as_text, &rows) {
            let _ = rows.send(Err(sheet_error(e, named, &name)));
        }
    });
    Ok(Box::new(taken.into_iter()))
}

/// A sheet that cannot be read, as [`table::sheet_rows`] reports it: naming the sheet when the
/// node `named` it.
fn sheet_error(e: calamine::XlsxError, named: bool, name: &str) -> NodeError {
    if named {
        NodeError::new(format!("sheet '{name}': {e}")).with_parameter("options.sheetName")
    } else {
        NodeError::new(format!("could not read the spreadsheet: {e}"))
    }
}

/// Where a sheet's non-empty cells lie.
struct Bounds {
    first_row: u32,
    first_col: u32,
    last_col: u32,
}

/// The bounds of sheet `name`'s non-empty cells (`None` when it has none).
fn bounds(workbook: &mut Workbook, name: &str) -> Result<Option<Bounds>, calamine::XlsxError> {
    let mut cells = workbook.worksheet_cells_reader(name)?;
    let mut bounds: Option<Bounds> = None;
    while let Some(cell) = cells.next_cell()? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        let b = bounds.get_or_insert(Bounds {
            first_row: row,
            first_col: col,
            last_col: col,
        });
        b.first_row = b.first_row.min(row);
        b.first_col = b.first_col.min(col);
        b.last_col = b.last_col.max(col);
    }
    Ok(bounds)
}

/// Send the rows of sheet `name` down `rows`, as [`table::sheet_rows`] makes them: the rows
/// before the first non-empty one empty, the others padded to the non-empty cells' last column.
/// Cells come in row order; a cell of an earlier row than the last sent (a file writing its
/// cells out of order) fails the read rather than giving other rows than the whole read would.
fn send_rows(
    workbook: &mut Workbook,
    name: &str,
    bounds: &Bounds,
    cells_as_text: bool,
    rows: &mpsc::SyncSender<Result<Row, NodeError>>,
) -> Result<(), calamine::XlsxError> {
    let width = bounds.last_col as usize + 1;
    let padded = || vec![Value::Null; width];
    for _ in 0..bounds.first_row {
        if rows.send(Ok(Row::new())).is_err() {
            return Ok(());
        }
    }
    let mut cells = workbook.worksheet_cells_reader(name)?;
    let (mut row_index, mut row) = (bounds.first_row, padded());
    while let Some(cell) = cells.next_cell()? {
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        if r < row_index {
            let message = format!("cells out of row order at row {}", r + 1);
            let _ = rows.send(Err(NodeError::new(message)));
            return Ok(());
        }
        while row_index < r {
            if rows
                .send(Ok(std::mem::replace(&mut row, padded())))
                .is_err()
            {
                return Ok(());
            }
            row_index += 1;
        }
        row[c as usize] = sheet_cell(&value.clone().into(), cells_as_text);
    }
    let _ = rows.send(Ok(row));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook;

    /// A sheet with leading empty rows and columns, gaps, and cells of every kind.
    fn workbook() -> Vec<u8> {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("Data").unwrap();
        sheet.write_string(2, 1, "name").unwrap();
        sheet.write_string(2, 3, "amount").unwrap();
        sheet.write_string(3, 1, "a").unwrap();
        sheet.write_number(3, 3, 1.5).unwrap();
        sheet.write_boolean(5, 2, true).unwrap();
        sheet.write_number(6, 4, 7.0).unwrap();
        sheet.write_string(6, 1, "").unwrap();
        let other = workbook.add_worksheet();
        other.write_string(0, 0, "second").unwrap();
        workbook.save_to_buffer().unwrap()
    }

    fn streamed(sheet: Option<&str>, as_text: bool) -> Vec<Row> {
        xlsx_rows(workbook(), sheet, as_text)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn rows_read_a_row_at_a_time_equal_the_whole_sheets() {
        for (sheet, as_text) in [(None, false), (Some("Data"), true), (Some("Sheet2"), false)] {
            let whole = table::sheet_rows(workbook(), sheet, as_text).unwrap();
            assert_eq!(streamed(sheet, as_text), whole, "{sheet:?}");
        }
        assert_eq!(streamed(None, false).len(), 7);
    }

    #[test]
    fn a_missing_sheet_names_the_parameter() {
        let error = xlsx_rows(workbook(), Some("Nope"), false).err().unwrap();
        assert_eq!(error.parameter.as_deref(), Some("options.sheetName"));
        assert_eq!(error.message, "sheet 'Nope': Worksheet 'Nope' not found");
    }
}
