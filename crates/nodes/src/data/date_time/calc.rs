//! Date arithmetic in a time zone, with Luxon's rules: calendar units (years ... days) move the
//! wall clock, time units (hours ... milliseconds) move the instant; rounding to a unit; the
//! difference between two dates in chosen units; one part of a date.

use crate::util::dates::localize;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Timelike};
use chrono_tz::Tz;
pub use sluice_expr::calendar::Unit;

/// `date` moved by `amount` units (negative to go back). Fractions of calendar units are
/// dropped, as Luxon does for months; fractional time units are kept to the millisecond.
pub fn add(date: &DateTime<Tz>, amount: f64, unit: Unit) -> Option<DateTime<Tz>> {
    if let Some(ms) = unit.fixed_millis() {
        return Some(*date + Duration::milliseconds((amount * ms).round() as i64));
    }
    let whole = amount.trunc() as i64;
    let local = date.naive_local();
    let months = |n: i64| -> Option<_> {
        if n >= 0 {
            local.checked_add_months(Months::new(n as u32))
        } else {
            local.checked_sub_months(Months::new(n.unsigned_abs() as u32))
        }
    };
    let moved = match unit {
        Unit::Year => months(whole * 12)?,
        Unit::Quarter => months(whole * 3)?,
        Unit::Month => months(whole)?,
        Unit::Week => local + Duration::days(whole * 7),
        _ => local + Duration::days(whole),
    };
    Some(localize(date.timezone(), moved))
}

/// The start of the `unit` that contains `date` (weeks start on Monday).
pub fn start_of(date: &DateTime<Tz>, unit: Unit) -> DateTime<Tz> {
    let local = date.naive_local();
    let day = local.date();
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    let truncated = match unit {
        Unit::Year => midnight(day.with_ordinal(1).unwrap_or(day)),
        Unit::Quarter => midnight(
            NaiveDate::from_ymd_opt(day.year(), (day.month0() / 3) * 3 + 1, 1).unwrap_or(day),
        ),
        Unit::Month => midnight(day.with_day(1).unwrap_or(day)),
        Unit::Week => midnight(day - Duration::days(day.weekday().num_days_from_monday().into())),
        Unit::Day => midnight(day),
        Unit::Hour => day.and_hms_opt(local.hour(), 0, 0).unwrap_or(local),
        Unit::Minute => day
            .and_hms_opt(local.hour(), local.minute(), 0)
            .unwrap_or(local),
        Unit::Second => local.with_nanosecond(0).unwrap_or(local),
        Unit::Millisecond => local
            .with_nanosecond(local.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(local),
    };
    localize(date.timezone(), truncated)
}

/// Round down to the start of `unit`, or up to the start of the next one (a date already on a
/// boundary stays).
pub fn round(date: &DateTime<Tz>, unit: Unit, up: bool) -> DateTime<Tz> {
    let start = start_of(date, unit);
    if !up || start == *date {
        return start;
    }
    add(&start, 1.0, unit).unwrap_or(start)
}

/// The time from `start` to `end` split into `units` (largest first, each taking what it can),
/// the smallest unit keeping the remainder as a fraction, like Luxon's `diff`.
pub fn between(start: &DateTime<Tz>, end: &DateTime<Tz>, units: &[Unit]) -> Vec<(Unit, f64)> {
    let mut units = units.to_vec();
    units.sort();
    units.dedup();
    let negative = end < start;
    let (from, to) = if negative { (end, start) } else { (start, end) };
    let mut cursor = *from;
    let mut out = Vec::new();
    for (i, &unit) in units.iter().enumerate() {
        let last = i + 1 == units.len();
        let mut count = 0.0;
        if let Some(ms) = unit.fixed_millis() {
            let remaining = (*to - cursor).num_milliseconds() as f64;
            count = if last {
                remaining / ms
            } else {
                (remaining / ms).floor()
            };
            cursor += Duration::milliseconds((count * ms).round() as i64);
        } else {
            while add(&cursor, count + 1.0, unit).is_some_and(|n| n <= *to) {
                count += 1.0;
            }
            let base = add(&cursor, count, unit).unwrap_or(cursor);
            if last {
                let next = add(&cursor, count + 1.0, unit).unwrap_or(base);
                let span = (next - base).num_milliseconds() as f64;
                if span > 0.0 {
                    count += (*to - base).num_milliseconds() as f64 / span;
                }
            }
            cursor = base;
        }
        out.push((
            unit,
            if negative && count != 0.0 {
                -count
            } else {
                count
            },
        ));
    }
    out
}

/// One part of `date`: year, month (1-12), ISO week, day of month, hour, minute or second.
pub fn extract(date: &DateTime<Tz>, unit: Unit) -> i64 {
    match unit {
        Unit::Year => date.year().into(),
        Unit::Quarter => ((date.month0() / 3) + 1).into(),
        Unit::Month => date.month().into(),
        Unit::Week => date.iso_week().week().into(),
        Unit::Day => date.day().into(),
        Unit::Hour => date.hour().into(),
        Unit::Minute => date.minute().into(),
        Unit::Second => date.second().into(),
        Unit::Millisecond => date.timestamp_subsec_millis().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Tz> {
        Tz::UTC.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
    }

    #[test]
    fn calendar_and_time_units() {
        assert_eq!(
            add(&at(2022, 8, 1, 0), 2.0, Unit::Quarter).unwrap(),
            at(2023, 2, 1, 0)
        );
        assert_eq!(
            add(&at(2022, 1, 31, 0), 1.0, Unit::Month).unwrap(),
            at(2022, 2, 28, 0)
        );
        assert_eq!(
            add(&at(2022, 8, 1, 0), -2.0, Unit::Day).unwrap(),
            at(2022, 7, 30, 0)
        );
        assert_eq!(
            add(&at(2022, 8, 1, 0), 1.5, Unit::Hour).unwrap(),
            at(2022, 8, 1, 1) + Duration::minutes(30)
        );
    }

    #[test]
    fn rounding() {
        assert_eq!(
            round(&at(2023, 4, 11, 13), Unit::Day, false),
            at(2023, 4, 11, 0)
        );
        assert_eq!(
            round(&at(2023, 4, 11, 13), Unit::Day, true),
            at(2023, 4, 12, 0)
        );
        assert_eq!(
            round(&at(2023, 4, 12, 0), Unit::Week, false),
            at(2023, 4, 10, 0)
        );
    }

    #[test]
    fn differences() {
        let d = between(&at(2023, 4, 11, 0), &at(2023, 4, 13, 12), &[Unit::Day]);
        assert_eq!(d, vec![(Unit::Day, 2.5)]);
        let d = between(
            &at(2023, 1, 1, 0),
            &at(2024, 3, 2, 6),
            &[Unit::Hour, Unit::Month],
        );
        assert_eq!(d, vec![(Unit::Month, 14.0), (Unit::Hour, 30.0)]);
    }
}
