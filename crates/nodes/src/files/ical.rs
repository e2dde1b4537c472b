//! iCalendar files (RFC 5545): Convert to File's `iCal` operation writes one event per item
//! from its parameters (title, start, end, all day, and the additional fields description,
//! location, url, uid, status, organizer, ...); Extract From File's `fromIcs` reads a calendar's
//! events as `{events: [{summary, description, dtstart, ...}]}` (property names lower-cased,
//! text unescaped, folded lines joined).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sluice_engine::NodeError;
use sluice_model::{JsonObject, Value};

/// One event's fields as Convert to File takes them.
pub struct Event {
    pub title: String,
    pub start: String,
    pub end: String,
    pub all_day: bool,
    /// `additionalFields`: description, location, url, uid, status, organizer, ...
    pub fields: JsonObject,
    pub now: DateTime<Utc>,
}

/// The event as an iCalendar file.
pub fn write(event: &Event) -> Result<Vec<u8>, NodeError> {
    let text = |key: &str| {
        event
            .fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Sluice//Convert to File//EN".into(),
        "METHOD:PUBLISH".into(),
    ];
    if let Some(name) = text("calName") {
        lines.push(format!("X-WR-CALNAME:{}", escape(name)));
    }
    lines.push("BEGIN:VEVENT".into());
    let uid = text("uid")
        .map(String::from)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    lines.push(format!("UID:{}", escape(&uid)));
    lines.push(format!("DTSTAMP:{}", event.now.format("%Y%m%dT%H%M%SZ")));
    lines.push(date_line("DTSTART", &event.start, event.all_day, "start")?);
    lines.push(date_line("DTEND", &event.end, event.all_day, "end")?);
    if !event.title.is_empty() {
        lines.push(format!("SUMMARY:{}", escape(&event.title)));
    }
    for (key, property) in [
        ("description", "DESCRIPTION"),
        ("location", "LOCATION"),
        ("url", "URL"),
        ("status", "STATUS"),
        ("organizer", "ORGANIZER"),
        ("recurrenceRule", "RRULE"),
    ] {
        if let Some(value) = text(key) {
            let value = if property == "RRULE" {
                value.to_string()
            } else {
                escape(value)
            };
            lines.push(format!("{property}:{value}"));
        }
    }
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    Ok(out.into_bytes())
}

/// `DTSTART:20240103T000000Z`, or `DTSTART;VALUE=DATE:20240103` for all-day events.
fn date_line(
    property: &str,
    value: &str,
    all_day: bool,
    parameter: &str,
) -> Result<String, NodeError> {
    let when = parse_time(value).ok_or_else(|| {
        NodeError::new(format!("'{value}' is not a date and time")).with_parameter(parameter)
    })?;
    Ok(if all_day {
        format!("{property};VALUE=DATE:{}", when.format("%Y%m%d"))
    } else {
        format!("{property}:{}", when.format("%Y%m%dT%H%M%SZ"))
    })
}

/// ISO 8601 with or without an offset (without one it is UTC), or a date alone.
fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
            .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') | Some('N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The events of an iCalendar text.
pub fn read(text: &str) -> Value {
    // Unfold: a line starting with a space or tab continues the previous one.
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        match (line.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some(previous)) => previous.push_str(rest),
            _ => lines.push(line.to_string()),
        }
    }
    let mut events = Vec::new();
    let mut current: Option<JsonObject> = None;
    for line in &lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let property = name.split(';').next().unwrap_or(name).to_ascii_lowercase();
        match (property.as_str(), value) {
            ("begin", "VEVENT") => current = Some(JsonObject::new()),
            ("end", "VEVENT") => events.extend(current.take().map(Value::Object)),
            (_, _) => {
                if let Some(event) = current.as_mut() {
                    event.insert(property, Value::String(unescape(value)));
                }
            }
        }
    }
    let mut calendar = JsonObject::new();
    calendar.insert("events".into(), Value::Array(events));
    Value::Object(calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_all_day_event_round_trips() {
        let mut fields = JsonObject::new();
        fields.insert("description".into(), json!("line one\nsemi; comma,"));
        let event = Event {
            title: "Trip".into(),
            start: "2024-01-03T00:00:00".into(),
            end: "2024-01-04T00:00:00".into(),
            all_day: true,
            fields,
            now: Utc::now(),
        };
        let text = String::from_utf8(write(&event).unwrap()).unwrap();
        assert!(text.contains("DTSTART;VALUE=DATE:20240103\r\n"), "{text}");
        let read = read(&text);
        assert_eq!(read["events"][0]["description"], "line one\nsemi; comma,");
        assert_eq!(read["events"][0]["summary"], "Trip");
    }

    #[test]
    fn folded_lines_are_joined() {
        let read = read("BEGIN:VEVENT\r\nDESCRIPTION:long\r\n  text\r\nEND:VEVENT\r\n");
        assert_eq!(read["events"][0]["description"], "long text");
    }
}
