//! Tables as HTML, the shape n8n's spreadsheet export writes (`<td data-t="n" data-v="1">`): a
//! writer, and a reader of the first `<table>` of any page, typing cells by their `data-t` or,
//! without it, numeric text as numbers.

use crate::files::table::{typed_text, Row};
use crate::util::html::escape;
use scraper::{Html, Selector};
use sluice_model::Value;

/// `rows` as an HTML page holding one table.
pub fn write(rows: &[Row]) -> Vec<u8> {
    let mut out = String::from(
        "<html><head><meta charset=\"utf-8\"/><title>SheetJS Table Export</title></head><body><table>",
    );
    for (r, row) in rows.iter().enumerate() {
        out.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            let id = format!("sjs-{}{}", column_name(c), r + 1);
            let (kind, text) = match cell {
                Value::Null => {
                    out.push_str(&format!("<td id=\"{id}\"></td>"));
                    continue;
                }
                Value::Number(n) => ("n", n.to_string()),
                Value::Bool(b) => ("b", if *b { "TRUE" } else { "FALSE" }.to_string()),
                other => ("s", crate::util::values::as_text(other)),
            };
            let text = escape(&text);
            out.push_str(&format!(
                "<td data-t=\"{kind}\" data-v=\"{text}\" id=\"{id}\">{text}</td>"
            ));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></body></html>");
    out.into_bytes()
}

/// The rows of the first table in `html`.
pub fn read(html: &str) -> Vec<Row> {
    let page = Html::parse_document(html);
    let table = Selector::parse("table").expect("valid selector");
    let rows = Selector::parse("tr").expect("valid selector");
    let cells = Selector::parse("td, th").expect("valid selector");
    let Some(table) = page.select(&table).next() else {
        return Vec::new();
    };
    table
        .select(&rows)
        .map(|row| {
            row.select(&cells)
                .map(|cell| {
                    let text: String = cell.text().collect();
                    let value = cell.value().attr("data-v").unwrap_or(&text);
                    match cell.value().attr("data-t") {
                        Some("s") => Value::String(value.to_string()),
                        Some("b") => Value::Bool(value.eq_ignore_ascii_case("true")),
                        _ => typed_text(value),
                    }
                })
                .collect()
        })
        .collect()
}

/// `A`, `B`, ..., `Z`, `AA`, ... for column index `index`.
pub fn column_name(index: usize) -> String {
    let mut name = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        name.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_with_types() {
        let rows = vec![
            vec![json!("A"), json!("B & C")],
            vec![json!(1), json!(true)],
        ];
        let html = String::from_utf8(write(&rows)).unwrap();
        assert!(
            html.contains("<td data-t=\"n\" data-v=\"1\" id=\"sjs-A2\">1</td>"),
            "{html}"
        );
        assert_eq!(read(&html), rows);
        assert_eq!(column_name(27), "AB");
    }
}
