//! Reading dates and time zones the way n8n's date nodes (Date & Time, Wait) accept them: Unix
//! timestamps in seconds or milliseconds (numbers or numeric text), ISO 8601, RFC 2822 / HTTP
//! dates, SQL dates, and the loose forms JavaScript's `Date` understands (`08/01/2022`,
//! `Aug 1 2022`, `2023/04/11`). Text that follows an explicit moment/Luxon format is read by the
//! Date & Time node itself, next to its format language.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sluice_expr::calendar::MONTHS;
use sluice_model::Value;

/// A time zone name as users write it (`US/Hawaii`, `utc`).
pub(crate) fn parse_zone(name: &str) -> Option<Tz> {
    Tz::from_str_insensitive(name.trim()).ok()
}

/// A parsed date, before a time zone is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Parsed {
    /// A fixed instant (timestamp, or text with an offset).
    Instant(DateTime<Utc>),
    /// Wall-clock time without a zone. `loose` when it came from the JavaScript-`Date`-style
    /// fallback (moment reads those in the process zone even when told another zone).
    Wall { at: NaiveDateTime, loose: bool },
}

impl Parsed {
    /// The date in `zone`; wall-clock times are read as local time of `zone`.
    pub(crate) fn in_zone(self, zone: Tz) -> DateTime<Tz> {
        match self {
            Parsed::Instant(at) => at.with_timezone(&zone),
            Parsed::Wall { at, .. } => localize(zone, at),
        }
    }
}

/// `at` as local time in `zone`; in a DST gap it moves forward an hour like JavaScript does.
pub(crate) fn localize(zone: Tz, at: NaiveDateTime) -> DateTime<Tz> {
    zone.from_local_datetime(&at).earliest().unwrap_or_else(|| {
        zone.from_local_datetime(&(at + chrono::Duration::hours(1)))
            .earliest()
            .unwrap_or_else(|| zone.from_utc_datetime(&at))
    })
}

/// A Unix timestamp: values below 1e11 are seconds (possibly fractional), larger ones milliseconds.
pub(crate) fn timestamp(n: f64) -> Option<DateTime<Utc>> {
    let millis = if n.abs() < 1e11 { n * 1000.0 } else { n };
    Utc.timestamp_millis_opt(millis.round() as i64).single()
}

/// Read a date from a JSON value. `Ok(None)` for null or empty text; `Err` when unreadable.
pub(crate) fn parse_value(value: &Value) -> Result<Option<Parsed>, ()> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .and_then(timestamp)
            .map(|t| Some(Parsed::Instant(t)))
            .ok_or(()),
        Value::String(s) => parse_text(s).map(Some).ok_or(()),
        _ => Err(()),
    }
}

/// Read a date from text without a format.
pub(crate) fn parse_text(text: &str) -> Option<Parsed> {
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return timestamp(n).map(Parsed::Instant);
    }
    parse_iso(text)
        .or_else(|| {
            DateTime::parse_from_rfc2822(text)
                .ok()
                .map(|d| Parsed::Instant(d.to_utc()))
        })
        .or_else(|| parse_loose(text))
}

/// ISO 8601 and SQL forms: `2023-04-11`, `2023-04-11T13:51:59.965+02:00`, `2023-04-11 13:51`.
fn parse_iso(text: &str) -> Option<Parsed> {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| -> Option<u32> {
        let s = text.get(from..from + n)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let year = digits(0, 4)? as i32;
    let (mut month, mut day, mut pos) = (1, 1, 4);
    if b.get(pos) == Some(&b'-') {
        month = digits(5, 2)?;
        pos = 7;
        if b.get(pos) == Some(&b'-') {
            day = digits(8, 2)?;
            pos = 10;
        }
    } else if b.len() != 4 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut time = NaiveTime::MIN;
    if matches!(b.get(pos), Some(b'T' | b't' | b' ')) && pos + 1 < b.len() {
        let (h, m) = (digits(pos + 1, 2)?, digits(pos + 4, 2)?);
        (b.get(pos + 3) == Some(&b':')).then_some(())?;
        pos += 6;
        let mut s = 0;
        let mut nanos = 0;
        if b.get(pos) == Some(&b':') {
            s = digits(pos + 1, 2)?;
            pos += 3;
            if matches!(b.get(pos), Some(b'.' | b',')) {
                let frac: String = text[pos + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                pos += 1 + frac.len();
                nanos = format!("{:0<9}", &frac[..frac.len().min(9)]).parse().ok()?;
            }
        }
        time = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    }
    let at = date.and_time(time);
    let rest = text[pos..].trim_start();
    if rest.is_empty() {
        return Some(Parsed::Wall { at, loose: false });
    }
    let offset = parse_offset(rest)?;
    Some(Parsed::Instant(
        at.and_utc() - chrono::Duration::seconds(offset.into()),
    ))
}

/// `Z`, `UTC`, `GMT`, `+02:00`, `+0200`, `+02`: seconds east of UTC when `text` is exactly one.
fn parse_offset(text: &str) -> Option<i32> {
    let (seconds, used) = offset_prefix(text)?;
    text[used..].trim().is_empty().then_some(seconds)
}

/// The offset at the start of `text` and how many bytes it took.
pub(crate) fn offset_prefix(text: &str) -> Option<(i32, usize)> {
    for zone in ["Z", "UTC", "GMT"] {
        if let Some(rest) = text.strip_prefix(zone) {
            if !rest.starts_with(['+', '-']) {
                return Some((0, zone.len()));
            }
            let (seconds, used) = offset_prefix(rest)?;
            return Some((seconds, zone.len() + used));
        }
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body: String = text[1..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let (h, m): (i32, i32) = match digits.len() {
        1 | 2 => (digits.parse().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    Some((sign * (h * 3600 + m * 60), 1 + body.len()))
}

pub(crate) fn month_from_name(word: &str) -> Option<u32> {
    let lower = word.to_ascii_lowercase();
    (lower.len() >= 3)
        .then(|| {
            MONTHS
                .iter()
                .position(|m| m.to_ascii_lowercase().starts_with(&lower))
        })
        .flatten()
        .map(|i| i as u32 + 1)
}

/// The forms JavaScript's `Date` accepts beyond ISO: `MM/DD/YYYY`, `YYYY/MM/DD`, `Aug 1 2022`,
/// `1 August 2022`, `Tue Aug 01 2022 10:00:00 GMT+0200`, each with an optional time.
fn parse_loose(text: &str) -> Option<Parsed> {
    let mut numbers: Vec<(u32, usize)> = Vec::new();
    let mut month_name = None;
    let mut time: Option<(u32, u32, u32, u32)> = None;
    let mut pm = None;
    let mut offset = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let run: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = &rest[run.len()..];
            if after.starts_with(':') && time.is_none() {
                let (t, used) = parse_clock(rest)?;
                time = Some(t);
                rest = &rest[used..];
                continue;
            }
            numbers.push((run.parse().ok()?, run.len()));
            rest = after;
        } else if c.is_ascii_alphabetic() {
            if let Some((seconds, used)) = offset_prefix(rest) {
                offset = Some(seconds);
                rest = &rest[used..];
                continue;
            }
            let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            rest = &rest[word.len()..];
            match word.to_ascii_lowercase().as_str() {
                "am" => pm = Some(false),
                "pm" => pm = Some(true),
                w => {
                    if let Some(m) = month_from_name(w) {
                        month_name = Some(m);
                    } else if !WEEKDAY_PREFIXES.iter().any(|d| w.starts_with(d)) {
                        return None;
                    }
                }
            }
        } else if (c == '+' || c == '-') && time.is_some() {
            let (seconds, used) = offset_prefix(rest)?;
            offset = Some(seconds);
            rest = &rest[used..];
        } else if matches!(c, '/' | '-' | '.' | ',' | ' ' | '(' | ')') {
            rest = &rest[1..];
        } else {
            return None;
        }
    }
    let (year, month, day) = match (month_name, numbers.as_slice()) {
        (Some(m), [(y, 4), (d, n)]) if *n <= 2 => (*y as i32, m, *d),
        (Some(m), [(d, _), (y, _)]) => (*y as i32, m, *d),
        (None, [(y, 4), (m, _), (d, _)]) => (*y as i32, *m, *d),
        (None, [(m, _), (d, _), (y, n)]) => {
            let y = if *n <= 2 {
                2000 + *y as i32 - if *y >= 50 { 100 } else { 0 }
            } else {
                *y as i32
            };
            (y, *m, *d)
        }
        _ => return None,
    };
    let (mut h, m, s, ms) = time.unwrap_or_default();
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let at = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_milli_opt(h, m, s, ms)?;
    Some(match offset {
        Some(seconds) => Parsed::Instant(at.and_utc() - chrono::Duration::seconds(seconds.into())),
        None => Parsed::Wall { at, loose: true },
    })
}

const WEEKDAY_PREFIXES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `HH:mm[:ss[.SSS]]` at the start of `text`.
fn parse_clock(text: &str) -> Option<((u32, u32, u32, u32), usize)> {
    let mut parts = Vec::new();
    let mut used = 0;
    let mut millis = 0;
    for (i, chunk) in text.split(':').enumerate() {
        let digits: String = chunk.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || i > 2 {
            break;
        }
        parts.push(digits.parse::<u32>().ok()?);
        used += digits.len() + usize::from(i > 0);
        if digits.len() < chunk.len() {
            if let Some(frac) = chunk[digits.len()..].strip_prefix('.') {
                let f: String = frac.chars().take_while(char::is_ascii_digit).collect();
                millis = format!("{:0<3}", &f[..f.len().min(3)]).parse().ok()?;
                used += 1 + f.len();
            }
            break;
        }
    }
    match parts.as_slice() {
        [h, m] => Some(((*h, *m, 0, millis), used)),
        [h, m, s] => Some(((*h, *m, *s, millis), used)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(text: &str) -> String {
        match parse_text(text).unwrap() {
            Parsed::Wall { at, .. } => at.to_string(),
            Parsed::Instant(at) => at.to_rfc3339(),
        }
    }

    #[test]
    fn reads_the_usual_forms() {
        assert_eq!(
            wall("2023-04-11T13:51:59.965+00:00"),
            "2023-04-11T13:51:59.965+00:00"
        );
        assert_eq!(wall("2023-04-11T13:51:59.965"), "2023-04-11 13:51:59.965");
        assert_eq!(wall("2023-04-11 13:51"), "2023-04-11 13:51:00");
        assert_eq!(wall("08/01/2022"), "2022-08-01 00:00:00");
        assert_eq!(wall("2023/04/11"), "2023-04-11 00:00:00");
        assert_eq!(wall("Aug 1 2022 10:30 pm"), "2022-08-01 22:30:00");
        assert_eq!(
            wall("Tue, 11 Apr 2023 13:51:59 GMT"),
            "2023-04-11T13:51:59+00:00"
        );
        assert_eq!(wall("1682918315"), "2023-05-01T05:18:35+00:00");
        assert_eq!(wall("1682918315906"), "2023-05-01T05:18:35.906+00:00");
        assert!(parse_text("not a date").is_none());
    }
}
