//! Reading text that follows an explicit moment/Luxon format (the Date & Time node's "From
//! Format" option); text without a format is read by [`crate::util::dates`].

use super::format::{compile, Dialect, Field, Piece, Width};
use crate::util::dates::{month_from_name, offset_prefix, Parsed};
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};

/// Read `text` following an explicit `format`. Separators are matched leniently (any run of
/// non-alphanumeric characters), as moment does outside strict mode.
pub fn parse_with_format(text: &str, format: &str, dialect: Dialect) -> Option<Parsed> {
    let mut rest = text.trim();
    let (mut year, mut month, mut day) = (1970, 1, 1);
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    let mut pm = None;
    let mut offset = None;
    for piece in compile(format, dialect) {
        let field = match piece {
            Piece::Literal(lit) => {
                rest = rest
                    .strip_prefix(lit.as_str())
                    .unwrap_or_else(|| rest.trim_start_matches(|c: char| !c.is_alphanumeric()));
                continue;
            }
            Piece::Field(field) => field,
        };
        rest = rest.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '-');
        let take_digits = |rest: &mut &str, max: usize| -> Option<u32> {
            let n = rest
                .chars()
                .take(max)
                .take_while(char::is_ascii_digit)
                .count();
            let value = rest[..n].parse().ok()?;
            *rest = &rest[n..];
            Some(value)
        };
        use Field::*;
        match field {
            Year4 | YearPlain | IsoWeekYear => year = take_digits(&mut rest, 4)? as i32,
            Year2 => {
                let y = take_digits(&mut rest, 2)? as i32;
                year = if y >= 69 { 1900 + y } else { 2000 + y };
            }
            Month(Width::Short | Width::Long | Width::Min) => {
                let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
                month = month_from_name(&word)?;
                rest = &rest[word.len()..];
            }
            Month(_) => month = take_digits(&mut rest, 2)?,
            Day(_) => {
                day = take_digits(&mut rest, 2)?;
                rest = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            }
            Weekday(_) => {
                rest = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            }
            Hour24(_) | Hour12(_) | Hour24From1(_) => hour = take_digits(&mut rest, 2)?,
            Minute(_) => minute = take_digits(&mut rest, 2)?,
            Second(_) => second = take_digits(&mut rest, 2)?,
            Fraction(n) => {
                let digits: String = rest
                    .chars()
                    .take(n.max(3))
                    .take_while(char::is_ascii_digit)
                    .collect();
                nanos = format!("{:0<9}", digits).parse().ok()?;
                rest = &rest[digits.len()..];
            }
            Millis => nanos = take_digits(&mut rest, 3)? * 1_000_000,
            Meridiem { .. } => {
                let lower = rest.get(..2)?.to_ascii_lowercase();
                pm = Some(lower == "pm");
                rest = &rest[2..];
            }
            Offset { .. } => {
                let (seconds, used) = offset_prefix(rest)?;
                offset = Some(seconds);
                rest = &rest[used..];
            }
            UnixSeconds | UnixMillis => {
                let n: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                    .collect();
                let value: f64 = n.parse().ok()?;
                let millis = if field == UnixSeconds {
                    value * 1000.0
                } else {
                    value
                };
                return Utc
                    .timestamp_millis_opt(millis.round() as i64)
                    .single()
                    .map(Parsed::Instant);
            }
            Quarter | DayOfYear(_) | WeekdayIso | WeekdaySunday0 | IsoWeek(_) => {
                take_digits(&mut rest, 3)?;
            }
            ZoneAbbreviation | ZoneName => {
                rest = rest.trim_start_matches(|c: char| !c.is_whitespace());
            }
        }
    }
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let at = NaiveDate::from_ymd_opt(year, month, day)?
        .and_time(NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?);
    Some(match offset {
        Some(seconds) => Parsed::Instant(at.and_utc() - chrono::Duration::seconds(seconds.into())),
        None => Parsed::Wall { at, loose: false },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_explicit_formats() {
        let p = parse_with_format("2022-01-12", "YYYY-DD-MM", Dialect::Moment).unwrap();
        assert_eq!(
            p,
            Parsed::Wall {
                at: NaiveDate::from_ymd_opt(2022, 12, 1)
                    .unwrap()
                    .and_time(NaiveTime::MIN),
                loose: false
            }
        );
        let p =
            parse_with_format("11.04.2023 1:05 PM", "dd.MM.yyyy h:mm a", Dialect::Luxon).unwrap();
        assert!(matches!(p, Parsed::Wall { at, .. } if at.to_string() == "2023-04-11 13:05:00"));
        let p = parse_with_format("1663801200000", "x", Dialect::Moment).unwrap();
        assert_eq!(
            p,
            Parsed::Instant(Utc.timestamp_millis_opt(1663801200000).unwrap())
        );
    }
}
