//! Tables written as legacy Excel files (`.xls`, BIFF8): a workbook stream (globals with one
//! sheet, then the sheet's NUMBER, LABEL and BOOLERR cell records) inside a compound file
//! (CFB, version 3, 512-byte sectors). The stream is padded to the 4096-byte mini-stream cutoff
//! so it always lives in regular sectors. Reading goes through calamine with the other
//! spreadsheet formats.

use crate::files::table::Row;
use sluice_engine::NodeError;
use sluice_model::Value;

/// BIFF8 limits.
const MAX_ROWS: usize = 65_536;
const MAX_COLUMNS: usize = 256;
/// A LABEL's text is cut to keep the record within BIFF's 8224-byte limit.
const MAX_LABEL_CHARS: usize = 4000;

/// `rows` as an XLS file with one sheet named `sheet_name`.
pub fn write(rows: &[Row], sheet_name: &str) -> Result<Vec<u8>, NodeError> {
    if rows.len() > MAX_ROWS || rows.iter().any(|r| r.len() > MAX_COLUMNS) {
        return Err(NodeError::new(format!(
            "an XLS sheet holds at most {MAX_ROWS} rows and {MAX_COLUMNS} columns; use xlsx"
        ))
        .with_parameter("operation"));
    }
    Ok(compound_file(&workbook(rows, sheet_name)))
}

fn record(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

fn bof(kind: u16) -> Vec<u8> {
    let mut data = Vec::new();
    data.extend_from_slice(&0x0600u16.to_le_bytes()); // BIFF8
    data.extend_from_slice(&kind.to_le_bytes());
    data.extend_from_slice(&0x0DBBu16.to_le_bytes()); // build
    data.extend_from_slice(&0x07CCu16.to_le_bytes()); // year
    data.extend_from_slice(&0u32.to_le_bytes());
    data.extend_from_slice(&0x0006u32.to_le_bytes());
    data
}

/// A BIFF8 string: its length (`u8` or `u16`), the UTF-16 flag, the UTF-16LE units.
fn unicode_string(text: &str, wide_length: bool) -> Vec<u8> {
    let units: Vec<u16> = text
        .chars()
        .take(MAX_LABEL_CHARS)
        .collect::<String>()
        .encode_utf16()
        .collect();
    let mut data = Vec::new();
    if wide_length {
        data.extend_from_slice(&(units.len() as u16).to_le_bytes());
    } else {
        data.push(units.len().min(255) as u8);
    }
    data.push(1);
    for unit in units
        .iter()
        .take(if wide_length { usize::MAX } else { 255 })
    {
        data.extend_from_slice(&unit.to_le_bytes());
    }
    data
}

fn workbook(rows: &[Row], sheet_name: &str) -> Vec<u8> {
    let mut globals = Vec::new();
    record(&mut globals, 0x0809, &bof(0x0005));
    record(&mut globals, 0x0042, &1200u16.to_le_bytes()); // CODEPAGE: UTF-16
    let boundsheet_at = globals.len();
    let name = unicode_string(sheet_name, false);
    let mut boundsheet = vec![0u8; 6];
    boundsheet.extend_from_slice(&name);
    record(&mut globals, 0x0085, &boundsheet);
    record(&mut globals, 0x000A, &[]);
    // The sheet starts right after the globals; patch its offset into BOUNDSHEET8.
    let sheet_offset = globals.len() as u32;
    globals[boundsheet_at + 4..boundsheet_at + 8].copy_from_slice(&sheet_offset.to_le_bytes());

    let mut sheet = Vec::new();
    record(&mut sheet, 0x0809, &bof(0x0010));
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut dimensions = Vec::new();
    dimensions.extend_from_slice(&0u32.to_le_bytes());
    dimensions.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    dimensions.extend_from_slice(&0u16.to_le_bytes());
    dimensions.extend_from_slice(&(columns as u16).to_le_bytes());
    dimensions.extend_from_slice(&0u16.to_le_bytes());
    record(&mut sheet, 0x0200, &dimensions);
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let mut data = Vec::new();
            data.extend_from_slice(&(r as u16).to_le_bytes());
            data.extend_from_slice(&(c as u16).to_le_bytes());
            data.extend_from_slice(&0u16.to_le_bytes()); // XF
            match cell {
                Value::Null => continue,
                Value::Number(n) => {
                    data.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
                    record(&mut sheet, 0x0203, &data);
                }
                Value::Bool(b) => {
                    data.extend_from_slice(&[u8::from(*b), 0]);
                    record(&mut sheet, 0x0205, &data);
                }
                other => {
                    data.extend_from_slice(&unicode_string(
                        &crate::util::values::as_text(other),
                        true,
                    ));
                    record(&mut sheet, 0x0204, &data);
                }
            }
        }
    }
    record(&mut sheet, 0x000A, &[]);
    globals.extend_from_slice(&sheet);
    globals
}

const SECTOR: usize = 512;
const FREE: u32 = 0xFFFF_FFFF;
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
const FAT_SECTOR: u32 = 0xFFFF_FFFD;
const NO_STREAM: u32 = 0xFFFF_FFFF;
const MINI_STREAM_CUTOFF: usize = 4096;

/// A compound file holding `stream` as its `Workbook` stream: FAT sectors, one directory
/// sector, then the stream.
fn compound_file(stream: &[u8]) -> Vec<u8> {
    let mut stream = stream.to_vec();
    if stream.len() < MINI_STREAM_CUTOFF {
        stream.resize(MINI_STREAM_CUTOFF, 0);
    }
    let data_sectors = stream.len().div_ceil(SECTOR);
    let mut fat_sectors = 1;
    while fat_sectors * (SECTOR / 4) < fat_sectors + 1 + data_sectors {
        fat_sectors += 1;
    }
    let directory_sector = fat_sectors as u32;
    let first_data_sector = directory_sector + 1;

    let mut out = Vec::with_capacity((1 + fat_sectors + 1 + data_sectors) * SECTOR);
    // Header.
    out.extend_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&0x003Eu16.to_le_bytes());
    out.extend_from_slice(&0x0003u16.to_le_bytes());
    out.extend_from_slice(&0xFFFEu16.to_le_bytes());
    out.extend_from_slice(&9u16.to_le_bytes());
    out.extend_from_slice(&6u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 6]);
    out.extend_from_slice(&0u32.to_le_bytes()); // directory sectors (0 in version 3)
    out.extend_from_slice(&(fat_sectors as u32).to_le_bytes());
    out.extend_from_slice(&directory_sector.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(MINI_STREAM_CUTOFF as u32).to_le_bytes());
    out.extend_from_slice(&END_OF_CHAIN.to_le_bytes()); // mini FAT
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&END_OF_CHAIN.to_le_bytes()); // DIFAT
    out.extend_from_slice(&0u32.to_le_bytes());
    for i in 0..109u32 {
        let entry = if (i as usize) < fat_sectors { i } else { FREE };
        out.extend_from_slice(&entry.to_le_bytes());
    }
    // FAT.
    let mut fat = vec![FAT_SECTOR; fat_sectors];
    fat.push(END_OF_CHAIN); // the directory
    for n in 0..data_sectors as u32 {
        let next = if n + 1 == data_sectors as u32 {
            END_OF_CHAIN
        } else {
            first_data_sector + n + 1
        };
        fat.push(next);
    }
    fat.resize(fat_sectors * SECTOR / 4, FREE);
    for entry in fat {
        out.extend_from_slice(&entry.to_le_bytes());
    }
    // Directory: the root, the Workbook stream, two unused entries.
    out.extend_from_slice(&directory_entry("Root Entry", 5, 1, END_OF_CHAIN, 0));
    out.extend_from_slice(&directory_entry(
        "Workbook",
        2,
        NO_STREAM,
        first_data_sector,
        stream.len(),
    ));
    out.extend_from_slice(&unused_entry());
    out.extend_from_slice(&unused_entry());
    // The stream.
    out.extend_from_slice(&stream);
    out.resize(out.len().div_ceil(SECTOR) * SECTOR, 0);
    out
}

fn directory_entry(name: &str, kind: u8, child: u32, start: u32, size: usize) -> [u8; 128] {
    let mut entry = [0u8; 128];
    let units: Vec<u16> = name.encode_utf16().collect();
    for (i, unit) in units.iter().enumerate() {
        entry[i * 2..i * 2 + 2].copy_from_slice(&unit.to_le_bytes());
    }
    entry[64..66].copy_from_slice(&(((units.len() + 1) * 2) as u16).to_le_bytes());
    entry[66] = kind;
    entry[67] = 1; // black
    entry[68..72].copy_from_slice(&NO_STREAM.to_le_bytes());
    entry[72..76].copy_from_slice(&NO_STREAM.to_le_bytes());
    entry[76..80].copy_from_slice(&child.to_le_bytes());
    entry[116..120].copy_from_slice(&start.to_le_bytes());
    entry[120..128].copy_from_slice(&(size as u64).to_le_bytes());
    entry
}

fn unused_entry() -> [u8; 128] {
    let mut entry = [0u8; 128];
    entry[68..80].copy_from_slice(&[0xFF; 12]);
    entry
}
