//! Tables written as OpenDocument spreadsheets (`.ods`): a zip holding the `mimetype` (first and
//! stored, as the format requires), the manifest and `content.xml` with one table. Reading goes
//! through calamine with the other spreadsheet formats.

use crate::files::table::Row;
use sluice_engine::NodeError;
use sluice_model::Value;
use std::io::{Cursor, Write};

const MIME_TYPE: &str = "application/vnd.oasis.opendocument.spreadsheet";

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;

/// `rows` as an ODS file with one sheet named `sheet_name`.
pub fn write(rows: &[Row], sheet_name: &str) -> Result<Vec<u8>, NodeError> {
    let failed = |e: &dyn std::fmt::Display| NodeError::new(format!("could not write ODS: {e}"));
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut add = |name: &str, options, bytes: &[u8]| -> Result<(), NodeError> {
        zip.start_file(name, options).map_err(|e| failed(&e))?;
        zip.write_all(bytes).map_err(|e| failed(&e))
    };
    add("mimetype", stored, MIME_TYPE.as_bytes())?;
    add("META-INF/manifest.xml", deflated, MANIFEST.as_bytes())?;
    add(
        "content.xml",
        deflated,
        content(rows, sheet_name).as_bytes(),
    )?;
    Ok(zip.finish().map_err(|e| failed(&e))?.into_inner())
}

fn content(rows: &[Row], sheet_name: &str) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>"#,
    );
    xml.push_str(&format!(
        "<table:table table:name=\"{}\">",
        escape(sheet_name)
    ));
    for row in rows {
        xml.push_str("<table:table-row>");
        for cell in row {
            match cell {
                Value::Null => xml.push_str("<table:table-cell/>"),
                Value::Number(n) => xml.push_str(&format!(
                    "<table:table-cell office:value-type=\"float\" office:value=\"{n}\"><text:p>{n}</text:p></table:table-cell>"
                )),
                Value::Bool(b) => xml.push_str(&format!(
                    "<table:table-cell office:value-type=\"boolean\" office:boolean-value=\"{b}\"><text:p>{}</text:p></table:table-cell>",
                    if *b { "TRUE" } else { "FALSE" }
                )),
                other => xml.push_str(&format!(
                    "<table:table-cell office:value-type=\"string\"><text:p>{}</text:p></table:table-cell>",
                    escape(&crate::util::values::as_text(other))
                )),
            }
        }
        xml.push_str("</table:table-row>");
    }
    xml.push_str("</table:table></office:spreadsheet></office:body></office:document-content>");
    xml
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
