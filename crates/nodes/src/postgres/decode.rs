//! Postgres result values as the JSON n8n's Postgres node outputs: bigint and numeric as text
//! (unless `largeNumbersOutput` is `numbers`), timestamps as ISO text with milliseconds, json and
//! jsonb parsed, bytea as Node's Buffer JSON, arrays as arrays. Values are read from the binary
//! protocol for every type, so any statement's rows can be turned into items.

use chrono::{DateTime, Duration, NaiveDate};
use sluice_model::{ItemJson, JsonObject, Value};
use tokio_postgres::types::{FromSql, Kind, Type};
use tokio_postgres::Row;

/// The raw bytes of any column, decoded later with its type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// One row as an item's JSON, skipping the first `skip` columns.
pub(super) fn row_to_json(row: &Row, skip: usize, large_numbers_as_text: bool) -> ItemJson {
    let mut object = ItemJson::with_capacity(row.len().saturating_sub(skip));
    for (i, column) in row.columns().iter().enumerate().skip(skip) {
        let value = match row.try_get::<_, Raw>(i) {
            Ok(Raw(Some(raw))) => decode(column.type_(), raw, large_numbers_as_text),
            _ => Value::Null,
        };
        object.insert(column.name(), value);
    }
    object
}

fn be_i16(b: &[u8]) -> i16 {
    i16::from_be_bytes([b[0], b[1]])
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b[..8].try_into().expect("8 bytes"))
}

fn big_number(text: String, as_text: bool) -> Value {
    if as_text {
        return Value::String(text);
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => sluice_expr::json_js::number_to_json(n),
        _ => Value::String(text),
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(f.to_string()))
}

/// Microseconds since 2000-01-01 (Postgres' epoch) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn timestamp(micros: i64) -> Value {
    match micros {
        i64::MAX => return Value::String("infinity".into()),
        i64::MIN => return Value::String("-infinity".into()),
        _ => {}
    }
    const EPOCH_OFFSET_SECONDS: i64 = 946_684_800;
    let time = DateTime::from_timestamp(EPOCH_OFFSET_SECONDS, 0)
        .and_then(|epoch| epoch.checked_add_signed(Duration::microseconds(micros)));
    match time {
        Some(t) => Value::String(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        None => Value::Null,
    }
}

fn date(days: i32) -> Value {
    match days {
        i32::MAX => return Value::String("infinity".into()),
        i32::MIN => return Value::String("-infinity".into()),
        _ => {}
    }
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.checked_add_signed(Duration::days(days.into())))
        .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
        .unwrap_or(Value::Null)
}

fn time_of_day(micros: i64) -> String {
    let seconds = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    let mut text = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

/// Postgres' binary numeric (base-10000 digits) as decimal text.
fn numeric_text(raw: &[u8]) -> String {
    let count = be_i16(&raw[0..]) as usize;
    let weight = be_i16(&raw[2..]) as i32;
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    let scale = u16::from_be_bytes([raw[6], raw[7]]) as usize;
    match sign {
        0xC000 => return "NaN".into(),
        0xD000 => return "Infinity".into(),
        0xF000 => return "-Infinity".into(),
        _ => {}
    }
    let digit = |i: i32| -> i16 {
        if i < 0 || i as usize >= count {
            0
        } else {
            be_i16(&raw[8 + 2 * i as usize..])
        }
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                text.push_str(&digit(i).to_string());
            } else {
                text.push_str(&format!("{:04}", digit(i)));
            }
        }
    }
    if scale > 0 {
        let mut fraction = String::new();
        let mut i = weight + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        fraction.truncate(scale);
        text.push('.');
        text.push_str(&fraction);
    }
    text
}

fn text(raw: &[u8]) -> Value {
    match std::str::from_utf8(raw) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => Value::String(raw.iter().map(|b| format!("{b:02x}")).collect()),
    }
}

fn json_text(raw: &[u8]) -> Value {
    serde_json::from_slice(raw).unwrap_or_else(|_| text(raw))
}

/// A binary array: dimensions, then the elements (nested for more than one dimension).
fn array(member: &Type, raw: &[u8], as_text: bool) -> Value {
    let dimensions = be_i32(&raw[0..]).max(0) as usize;
    if dimensions == 0 {
        return Value::Array(Vec::new());
    }
    let lengths: Vec<usize> = (0..dimensions)
        .map(|d| be_i32(&raw[12 + 8 * d..]).max(0) as usize)
        .collect();
    let mut offset = 12 + 8 * dimensions;
    let mut elements = Vec::with_capacity(lengths.iter().product());
    for _ in 0..lengths.iter().product::<usize>() {
        let len = be_i32(&raw[offset..]);
        offset += 4;
        if len < 0 {
            elements.push(Value::Null);
        } else {
            let len = len as usize;
            elements.push(decode(member, &raw[offset..offset + len], as_text));
            offset += len;
        }
    }
    fn nest(elements: &mut std::vec::IntoIter<Value>, lengths: &[usize]) -> Value {
        match lengths {
            [] => elements.next().unwrap_or(Value::Null),
            [n, rest @ ..] => Value::Array((0..*n).map(|_| nest(elements, rest)).collect()),
        }
    }
    nest(&mut elements.into_iter(), &lengths)
}

fn decode(ty: &Type, raw: &[u8], large_numbers_as_text: bool) -> Value {
    match *ty {
        Type::BOOL => Value::Bool(raw.first() == Some(&1)),
        Type::INT2 => Value::from(be_i16(raw)),
        Type::INT4 => Value::from(be_i32(raw)),
        Type::OID => Value::from(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]])),
        Type::INT8 => big_number(be_i64(raw).to_string(), large_numbers_as_text),
        Type::FLOAT4 => float(f32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]).into()),
        Type::FLOAT8 => float(f64::from_be_bytes(raw[..8].try_into().expect("8 bytes"))),
        Type::NUMERIC => big_number(numeric_text(raw), large_numbers_as_text),
        Type::JSON => json_text(raw),
        Type::JSONB => json_text(raw.get(1..).unwrap_or_default()),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => timestamp(be_i64(raw)),
        Type::DATE => date(be_i32(raw)),
        Type::TIME => Value::String(time_of_day(be_i64(raw))),
        Type::UUID => {
            let h: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            Value::String(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        Type::BYTEA => {
            let mut buffer = JsonObject::new();
            buffer.insert("type".into(), "Buffer".into());
            buffer.insert(
                "data".into(),
                Value::Array(raw.iter().map(|b| Value::from(*b)).collect()),
            );
            Value::Object(buffer)
        }
        _ => match ty.kind() {
            Kind::Array(member) => array(member, raw, large_numbers_as_text),
            Kind::Domain(base) => decode(base, raw, large_numbers_as_text),
            _ => text(raw),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(count: i16, weight: i16, sign: u16, scale: u16, digits: &[i16]) -> Vec<u8> {
        let mut raw = Vec::new();
        raw.extend(count.to_be_bytes());
        raw.extend(weight.to_be_bytes());
        raw.extend(sign.to_be_bytes());
        raw.extend(scale.to_be_bytes());
        for d in digits {
            raw.extend(d.to_be_bytes());
        }
        raw
    }

    #[test]
    fn numerics_as_decimal_text() {
        // 12.50 = digits [12, 5000], weight 0, scale 2
        assert_eq!(numeric_text(&numeric(2, 0, 0, 2, &[12, 5000])), "12.50");
        // 9007199254740993 = 9007 1992 5474 0993, weight 3
        assert_eq!(
            numeric_text(&numeric(4, 3, 0, 0, &[9007, 1992, 5474, 993])),
            "9007199254740993"
        );
        // -0.0012 = digit [12] at weight -1, scale 4
        assert_eq!(numeric_text(&numeric(1, -1, 0x4000, 4, &[12])), "-0.0012");
        // 10000 = digit [1] at weight 1 (trailing zero groups omitted)
        assert_eq!(numeric_text(&numeric(1, 1, 0, 0, &[1])), "10000");
    }

    #[test]
    fn timestamps_dates_and_times() {
        assert_eq!(
            timestamp(0),
            Value::String("2000-01-01T00:00:00.000Z".into())
        );
        assert_eq!(
            timestamp(86_400_000_000 + 1_500),
            Value::String("2000-01-02T00:00:00.001Z".into())
        );
        assert_eq!(date(-1), Value::String("1999-12-31".into()));
        assert_eq!(time_of_day(3_723_500_000), "01:02:03.5");
    }
}
