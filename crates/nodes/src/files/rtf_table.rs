//! Tables as RTF, the shape n8n's spreadsheet export writes (`\trowd ... A\cell B\cell ...\row`):
//! a writer, and a reader of the rows of any RTF table (control words skipped, `\uN` and escaped
//! characters kept), typing numeric text as numbers.

use crate::files::table::{typed_text, Row};

/// `rows` as an RTF document holding one table.
pub fn write(rows: &[Row]) -> Vec<u8> {
    let mut out = String::from("{\\rtf1\\ansi");
    for row in rows {
        out.push_str("\\trowd\\trautofit1");
        for c in 0..row.len() {
            out.push_str(&format!("\\cellx{}", c + 1));
        }
        out.push_str("\\pard\\intbl");
        for cell in row {
            out.push(' ');
            out.push_str(&escape(&crate::util::values::as_text(cell)));
            out.push_str("\\cell");
        }
        out.push_str("\\pard\\intbl\\row");
    }
    out.push('}');
    out.into_bytes()
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        match ch {
            '\\' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{}?", *unit as i16));
                }
            }
        }
    }
    out
}

/// The table rows of an RTF document.
pub fn read(rtf: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row: Row = Vec::new();
    let mut text = String::new();
    let mut utf16: Vec<u16> = Vec::new();
    let mut chars = rtf.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                let Some(&next) = chars.peek() else { break };
                if !next.is_ascii_alphabetic() {
                    chars.next();
                    if matches!(next, '\\' | '{' | '}') {
                        text.push(next);
                    }
                    continue;
                }
                let mut word = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphabetic()) {
                    word.push(c);
                    chars.next();
                }
                let mut param = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit() || **c == '-') {
                    param.push(c);
                    chars.next();
                }
                if chars.peek() == Some(&' ') {
                    chars.next();
                }
                match word.as_str() {
                    "u" => {
                        utf16.push(param.parse::<i32>().unwrap_or(63) as u16);
                        // The fallback character that follows.
                        if chars
                            .peek()
                            .is_some_and(|c| *c != '\\' && *c != '{' && *c != '}')
                        {
                            chars.next();
                        }
                        continue;
                    }
                    "cell" => {
                        flush_utf16(&mut utf16, &mut text);
                        row.push(typed_text(text.trim()));
                        text.clear();
                    }
                    "row" => {
                        rows.push(std::mem::take(&mut row));
                        text.clear();
                    }
                    "trowd" => text.clear(),
                    _ => {}
                }
                flush_utf16(&mut utf16, &mut text);
            }
            '{' | '}' | '\r' | '\n' => {}
            other => {
                flush_utf16(&mut utf16, &mut text);
                text.push(other);
            }
        }
    }
    rows
}

fn flush_utf16(units: &mut Vec<u16>, text: &mut String) {
    if !units.is_empty() {
        text.push_str(&String::from_utf16_lossy(units));
        units.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_with_escapes_and_unicode() {
        let rows = vec![
            vec![json!("A"), json!("{x}\\ é😀")],
            vec![json!(1), json!(2.5)],
        ];
        let rtf = String::from_utf8(write(&rows)).unwrap();
        assert!(
            rtf.starts_with(
                "{\\rtf1\\ansi\\trowd\\trautofit1\\cellx1\\cellx2\\pard\\intbl A\\cell"
            ),
            "{rtf}"
        );
        assert_eq!(read(&rtf), rows);
    }

    #[test]
    fn n8n_export_reads_back() {
        let rtf = "{\\rtf1\\ansi\\trowd\\trautofit1\\cellx1\\cellx2\\pard\\intbl A\\cell B\\cell\\pard\\intbl\\row\\trowd\\trautofit1\\cellx1\\cellx2\\pard\\intbl 1\\cell 2\\cell\\pard\\intbl\\row}";
        assert_eq!(
            read(rtf),
            vec![vec![json!("A"), json!("B")], vec![json!(1), json!(2)]]
        );
    }
}
