//! A luxon-compatible `DateTime` (the type of `$now`, `$today` and n8n's date extensions) and the
//! JavaScript `Date` helpers that share its calendar code.
//!
//! A `DateTime` is an instant (epoch milliseconds) plus a zone; calendar arithmetic happens in the
//! zone's local time, as luxon does. Formatting covers luxon's `toFormat` tokens in the `en-US`
//! locale; parsing covers ISO 8601, SQL, RFC 2822, HTTP dates and `fromFormat` patterns.

use chrono::{
    DateTime as ChronoDt, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::{OffsetName, Tz};

pub use crate::calendar::Unit;
use crate::calendar::{format_offset, OffsetStyle::*, MONTHS, WEEKDAYS};

/// The zone a `DateTime` is shown in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    /// A fixed offset (luxon's `FixedOffsetZone`); offset 0 prints as `Z` in ISO strings.
    Fixed(FixedOffset),
    /// An IANA zone.
    Named(Tz),
}

impl Zone {
    /// Parses a zone name the way luxon's `setZone` does: `utc`/`gmt`, `UTC+3`, IANA names.
    pub fn parse(name: &str) -> Option<Zone> {
        let lower = name.to_ascii_lowercase();
        if lower == "utc" || lower == "gmt" {
            return Some(Zone::Named(Tz::UTC));
        }
        for prefix in ["utc", "gmt"] {
            if let Some(rest) = lower.strip_prefix(prefix) {
                return parse_offset(rest).map(Zone::Fixed);
            }
        }
        name.parse::<Tz>().ok().map(Zone::Named)
    }

    pub fn utc() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).expect("zero offset"))
    }

    fn offset_at_utc(&self, utc: &NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(tz) => tz.offset_from_utc_datetime(utc).fix(),
        }
    }

    /// The instant of a local wall time in this zone (the earlier one in a DST overlap; a time
    /// skipped by DST moves forward).
    fn resolve_local(&self, local: &NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Fixed(o) => *local - Duration::seconds(i64::from(o.local_minus_utc())),
            Zone::Named(tz) => match tz.from_local_datetime(local).earliest() {
                Some(dt) => dt.naive_utc(),
                None => {
                    let later = *local + Duration::hours(1);
                    tz.from_local_datetime(&later)
                        .earliest()
                        .map_or(later, |dt| dt.naive_utc())
                }
            },
        }
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(o) if o.local_minus_utc() == 0 => "UTC".into(),
            Zone::Fixed(o) => format!("UTC{}", format_offset(o.local_minus_utc(), Narrow)),
        }
    }
}

/// `+05:00`, `-0330`, `+5`, `Z`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.is_empty() || s == "z" || s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes()[0] {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
    } else if rest.len() > 2 {
        let (h, m) = rest.split_at(rest.len() - 2);
        (h.parse().ok()?, m.parse().ok()?)
    } else {
        (rest.parse().ok()?, 0)
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// A luxon `DateTime`.
#[derive(Clone, Debug)]
pub struct DateTime {
    ms: i64,
    pub zone: Zone,
    /// Why the value is invalid (luxon's `invalidReason`), if it is.
    pub invalid: Option<String>,
}

fn naive_from_ms(ms: i64) -> NaiveDateTime {
    ChronoDt::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .naive_utc()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}

/// Adds calendar months, clamping the day to the target month's length (luxon's rule).
fn add_months(local: NaiveDateTime, months: i64) -> NaiveDateTime {
    let total = i64::from(local.year()) * 12 + i64::from(local.month0()) + months;
    let year = total.div_euclid(12) as i32;
    let month = total.rem_euclid(12) as u32 + 1;
    let day = local.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day).map_or(local, |d| d.and_time(local.time()))
}

/// The components of a date-time as luxon's `toObject`/`fromObject` name them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Parts {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millisecond: u32,
}

impl Parts {
    fn to_naive(self) -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(self.year, self.month, self.day)?.and_hms_milli_opt(
            self.hour,
            self.minute,
            self.second,
            self.millisecond,
        )
    }
}

impl DateTime {
    pub fn from_millis(ms: i64, zone: Zone) -> DateTime {
        DateTime {
            ms,
            zone,
            invalid: None,
        }
    }

    pub fn invalid(reason: impl Into<String>, zone: Zone) -> DateTime {
        DateTime {
            ms: 0,
            zone,
            invalid: Some(reason.into()),
        }
    }

    pub fn from_chrono(dt: &ChronoDt<FixedOffset>, zone: Zone) -> DateTime {
        DateTime::from_millis(dt.timestamp_millis(), zone)
    }

    /// A wall-clock time in `zone`; invalid when the parts are out of range.
    pub fn from_parts(parts: Parts, zone: Zone) -> DateTime {
        match parts.to_naive() {
            Some(local) => DateTime::from_local(local, zone),
            None => DateTime::invalid("unit out of range", zone),
        }
    }

    fn from_local(local: NaiveDateTime, zone: Zone) -> DateTime {
        let utc = zone.resolve_local(&local);
        DateTime::from_millis(utc.and_utc().timestamp_millis(), zone)
    }

    pub fn is_valid(&self) -> bool {
        self.invalid.is_none()
    }

    pub fn millis(&self) -> i64 {
        self.ms
    }

    fn offset_secs(&self) -> i32 {
        self.zone
            .offset_at_utc(&naive_from_ms(self.ms))
            .local_minus_utc()
    }

    /// Offset from UTC in minutes (luxon's `offset`).
    pub fn offset_minutes(&self) -> i32 {
        self.offset_secs() / 60
    }

    /// Wall-clock time in the zone.
    pub fn local(&self) -> NaiveDateTime {
        naive_from_ms(self.ms) + Duration::seconds(i64::from(self.offset_secs()))
    }

    pub fn parts(&self) -> Parts {
        let l = self.local();
        Parts {
            year: l.year(),
            month: l.month(),
            day: l.day(),
            hour: l.hour(),
            minute: l.minute(),
            second: l.second(),
            millisecond: l.nanosecond() / 1_000_000 % 1000,
        }
    }

    /// ISO weekday, Monday = 1.
    pub fn weekday(&self) -> u32 {
        self.local().weekday().number_from_monday()
    }

    pub fn set_zone(&self, zone: Zone) -> DateTime {
        DateTime {
            zone,
            ..self.clone()
        }
    }

    fn with_local(&self, f: impl FnOnce(NaiveDateTime) -> NaiveDateTime) -> DateTime {
        if !self.is_valid() {
            return self.clone();
        }
        DateTime::from_local(f(self.local()), self.zone)
    }

    /// Adds `amount` of `unit` (calendar units in local time, time units in absolute time).
    pub fn plus(&self, amount: f64, unit: Unit) -> DateTime {
        if !self.is_valid() {
            return self.clone();
        }
        match unit {
            Unit::Year => self.with_local(|l| add_months(l, (amount * 12.0) as i64)),
            Unit::Quarter => self.with_local(|l| add_months(l, (amount * 3.0) as i64)),
            Unit::Month => self.with_local(|l| add_months(l, amount as i64)),
            Unit::Week | Unit::Day => self.with_local(|l| {
                l + Duration::milliseconds((amount * unit.approx_millis()).round() as i64)
            }),
            _ => DateTime::from_millis(
                self.ms + (amount * unit.approx_millis()).round() as i64,
                self.zone,
            ),
        }
    }

    /// luxon's `startOf(unit)` (weeks start on Monday).
    pub fn start_of(&self, unit: Unit) -> DateTime {
        self.with_local(|l| {
            let date = l.date();
            let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight");
            match unit {
                Unit::Year => midnight(date.with_ordinal(1).unwrap_or(date)),
                Unit::Quarter => {
                    let m = (l.month0() / 3) * 3 + 1;
                    midnight(NaiveDate::from_ymd_opt(l.year(), m, 1).unwrap_or(date))
                }
                Unit::Month => midnight(date.with_day(1).unwrap_or(date)),
                Unit::Week => midnight(
                    date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
                ),
                Unit::Day => midnight(date),
                Unit::Hour => l
                    .with_minute(0)
                    .and_then(|t| t.with_second(0))
                    .unwrap_or(l)
                    .with_nanosecond(0)
                    .unwrap_or(l),
                Unit::Minute => l
                    .with_second(0)
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(l),
                Unit::Second => l.with_nanosecond(0).unwrap_or(l),
                Unit::Millisecond => l,
            }
        })
    }

    /// luxon's `endOf(unit)`: the last millisecond of the unit.
    pub fn end_of(&self, unit: Unit) -> DateTime {
        let start = self.start_of(unit);
        let next = match unit {
            Unit::Millisecond => return self.clone(),
            _ => start.plus(1.0, unit),
        };
        DateTime::from_millis(next.ms - 1, self.zone)
    }

    /// `this - other` expressed in `unit` (fractional; months/years by calendar).
    pub fn diff(&self, other: &DateTime, unit: Unit) -> f64 {
        match unit {
            Unit::Year | Unit::Quarter | Unit::Month => {
                let (a, b) = (self.local(), other.local());
                let mut months = i64::from(a.year() - b.year()) * 12
                    + i64::from(a.month() as i32 - b.month() as i32);
                let anchored = add_months(b, months);
                if (months > 0 && anchored > a) || (months < 0 && anchored < a) {
                    months -= months.signum();
                }
                let base = add_months(b, months);
                let next = add_months(b, months + if a >= base { 1 } else { -1 });
                let span = (next - base).num_milliseconds().abs() as f64;
                let frac = if span > 0.0 {
                    (a - base).num_milliseconds() as f64 / span
                } else {
                    0.0
                };
                let total = months as f64 + frac;
                match unit {
                    Unit::Year => total / 12.0,
                    Unit::Quarter => total / 3.0,
                    _ => total,
                }
            }
            Unit::Week | Unit::Day => {
                let local_ms = |d: &DateTime| d.local().and_utc().timestamp_millis();
                (local_ms(self) - local_ms(other)) as f64 / unit.approx_millis()
            }
            _ => (self.ms - other.ms) as f64 / unit.approx_millis(),
        }
    }

    /// `toISO()`: `2024-01-01T00:00:00.000+00:00` (or `Z` in a fixed UTC zone).
    pub fn to_iso(&self) -> String {
        if !self.is_valid() {
            return "Invalid DateTime".into();
        }
        format!("{}T{}", self.to_iso_date(), self.to_iso_time())
    }

    pub fn to_iso_date(&self) -> String {
        let l = self.local();
        format_year_month_day(l.year(), l.month(), l.day())
    }

    pub fn to_iso_time(&self) -> String {
        format!(
            "{}{}",
            self.local().format("%H:%M:%S%.3f"),
            self.iso_offset()
        )
    }

    fn iso_offset(&self) -> String {
        match self.zone {
            Zone::Fixed(o) if o.local_minus_utc() == 0 => "Z".into(),
            _ => format_offset(self.offset_secs(), Short),
        }
    }

    /// luxon's `toFormat` with en-US names.
    pub fn to_format(&self, fmt: &str) -> String {
        if !self.is_valid() {
            return "Invalid DateTime".into();
        }
        let mut out = String::new();
        for tok in format_tokens(fmt) {
            match tok {
                FmtTok::Literal(s) => out.push_str(&s),
                FmtTok::Field(c, n) => out.push_str(&self.format_field(c, n)),
            }
        }
        out
    }

    fn zone_abbreviation(&self) -> String {
        match self.zone {
            Zone::Named(tz) => tz
                .offset_from_utc_datetime(&naive_from_ms(self.ms))
                .abbreviation()
                .map(str::to_string)
                .unwrap_or_else(|| format!("GMT{}", format_offset(self.offset_secs(), Narrow))),
            Zone::Fixed(_) if self.offset_secs() == 0 => "UTC".into(),
            Zone::Fixed(_) => format!("GMT{}", format_offset(self.offset_secs(), Narrow)),
        }
    }

    fn format_field(&self, c: char, n: usize) -> String {
        let l = self.local();
        let p = self.parts();
        let pad = |v: i64, w: usize| format!("{v:0w$}");
        let hour12 = match p.hour % 12 {
            0 => 12,
            h => h,
        };
        let meridiem = if p.hour < 12 { "AM" } else { "PM" };
        let month_name = MONTHS[p.month as usize - 1];
        let weekday_name = WEEKDAYS[self.weekday() as usize - 1];
        let short_date = format!("{}/{}/{}", p.month, p.day, p.year);
        let med_date = format!("{} {}, {}", &month_name[..3], p.day, p.year);
        let time_short = format!("{hour12}:{:02} {meridiem}", p.minute);
        let time_secs = format!("{hour12}:{:02}:{:02} {meridiem}", p.minute, p.second);
        match (c, n) {
            ('S', 1) => p.millisecond.to_string(),
            ('S', _) | ('u', _) => pad(i64::from(p.millisecond), 3),
            ('s', 1) => p.second.to_string(),
            ('s', _) => pad(i64::from(p.second), 2),
            ('m', 1) => p.minute.to_string(),
            ('m', _) => pad(i64::from(p.minute), 2),
            ('h', 1) => hour12.to_string(),
            ('h', _) => pad(i64::from(hour12), 2),
            ('H', 1) => p.hour.to_string(),
            ('H', _) => pad(i64::from(p.hour), 2),
            ('Z', 1) => format_offset(self.offset_secs(), Narrow),
            ('Z', 2) => format_offset(self.offset_secs(), Short),
            ('Z', 3) => format_offset(self.offset_secs(), Techie),
            ('Z', _) => self.zone_abbreviation(),
            ('z', _) => self.zone.name(),
            ('a', _) => meridiem.into(),
            ('d', 1) => p.day.to_string(),
            ('d', _) => pad(i64::from(p.day), 2),
            ('c' | 'E', 1 | 2) => self.weekday().to_string(),
            ('c' | 'E', 3) => weekday_name[..3].into(),
            ('c' | 'E', 4) => weekday_name.into(),
            ('c' | 'E', _) => weekday_name[..1].into(),
            ('L' | 'M', 1) => p.month.to_string(),
            ('L' | 'M', 2) => pad(i64::from(p.month), 2),
            ('L' | 'M', 3) => month_name[..3].into(),
            ('L' | 'M', 4) => month_name.into(),
            ('L' | 'M', _) => month_name[..1].into(),
            ('y', 1) => p.year.to_string(),
            ('y', 2) => pad(i64::from(p.year.rem_euclid(100)), 2),
            ('y', n) => pad(i64::from(p.year), n.max(4)),
            ('G', 1 | 2) => if p.year > 0 { "AD" } else { "BC" }.into(),
            ('G', _) => if p.year > 0 {
                "Anno Domini"
            } else {
                "Before Christ"
            }
            .into(),
            ('k', 2) => pad(i64::from(l.iso_week().year().rem_euclid(100)), 2),
            ('k', _) => pad(i64::from(l.iso_week().year()), 4),
            ('W', 1) => l.iso_week().week().to_string(),
            ('W', _) => pad(i64::from(l.iso_week().week()), 2),
            ('o', 1) => l.ordinal().to_string(),
            ('o', _) => pad(i64::from(l.ordinal()), 3),
            ('q', 1) => ((p.month - 1) / 3 + 1).to_string(),
            ('q', _) => pad(i64::from((p.month - 1) / 3 + 1), 2),
            ('D', 1) => short_date,
            ('D', 2) => med_date,
            ('D', 3) => format!("{month_name} {}, {}", p.day, p.year),
            ('D', _) => format!("{weekday_name}, {month_name} {}, {}", p.day, p.year),
            ('t', 1) => time_short,
            ('t', _) => time_secs,
            ('T', 1) => format!("{:02}:{:02}", p.hour, p.minute),
            ('T', _) => format!("{:02}:{:02}:{:02}", p.hour, p.minute, p.second),
            ('f', 1) => format!("{short_date}, {time_short}"),
            ('f', _) => format!("{med_date}, {time_short}"),
            ('F', 1) => format!("{short_date}, {time_secs}"),
            ('F', _) => format!("{med_date}, {time_secs}"),
            ('X', _) => self.ms.div_euclid(1000).to_string(),
            ('x', _) => self.ms.to_string(),
            (c, n) => c.to_string().repeat(n),
        }
    }

    /// luxon's `toLocaleString()` default (`D` in en-US) or with a preset name.
    pub fn to_locale_string(&self) -> String {
        self.to_format("D")
    }
}

fn format_year_month_day(y: i32, m: u32, d: u32) -> String {
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!(
            "{}{:06}-{m:02}-{d:02}",
            if y < 0 { '-' } else { '+' },
            y.abs()
        )
    }
}

enum FmtTok {
    Literal(String),
    Field(char, usize),
}

/// Splits a luxon format string into runs of one letter and literal text (`'quoted'` too).
fn format_tokens(fmt: &str) -> Vec<FmtTok> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        lit.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                lit.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(FmtTok::Literal(if lit.is_empty() {
                "'".into()
            } else {
                lit
            }));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i] == c {
                i += 1;
            }
            out.push(FmtTok::Field(c, i - start));
        } else {
            out.push(FmtTok::Literal(c.to_string()));
            i += 1;
        }
    }
    out
}

/// Parses a luxon `fromFormat` string. The result is in `zone` unless the text carries an
/// offset and `set_zone` is asked for.
pub fn from_format(text: &str, fmt: &str, zone: Zone) -> DateTime {
    let mut pattern = String::from("^");
    let mut fields = Vec::new();
    for tok in format_tokens(fmt) {
        match tok {
            FmtTok::Literal(s) => pattern.push_str(&regex::escape(&s)),
            FmtTok::Field(c, n) => {
                let re = match (c, n) {
                    ('y', 2) | ('M' | 'L' | 'd' | 'H' | 'h' | 'm' | 's', 2) => r"(\d{2})",
                    ('y', 4) => r"(\d{4})",
                    ('y', _) => r"(\d{1,6})",
                    ('M' | 'L' | 'd' | 'H' | 'h' | 'm' | 's' | 'q' | 'W', _) if n <= 2 => {
                        r"(\d{1,2})"
                    }
                    ('M' | 'L', 3) => r"([A-Za-z]{3})",
                    ('M' | 'L', 4) => r"([A-Za-z]+)",
                    ('E' | 'c', 3) => r"([A-Za-z]{3})",
                    ('E' | 'c', 4) => r"([A-Za-z]+)",
                    ('S', 3) => r"(\d{3})",
                    ('S', _) => r"(\d{1,3})",
                    ('a', _) => r"([AaPp][Mm])",
                    ('Z', _) => r"(Z|[+-]\d{1,2}(?::?\d{2})?)",
                    ('z', _) => r"([A-Za-z_/+\-]+)",
                    ('X' | 'x', _) => r"(-?\d+)",
                    ('o', _) => r"(\d{1,3})",
                    _ => return DateTime::invalid(format!("unsupported token {c}"), zone),
                };
                pattern.push_str(re);
                fields.push((c, n));
            }
        }
    }
    pattern.push('$');
    let Ok(re) = regex::Regex::new(&pattern) else {
        return DateTime::invalid("bad format", zone);
    };
    let Some(caps) = re.captures(text.trim()) else {
        return DateTime::invalid(
            format!("the input \"{text}\" can't be parsed as format {fmt}"),
            zone,
        );
    };
    let mut parts = Parts {
        year: Utc::now().year(),
        month: 1,
        day: 1,
        ..Parts::default()
    };
    let mut pm: Option<bool> = None;
    let mut offset: Option<FixedOffset> = None;
    let mut ordinal: Option<u32> = None;
    let mut target = zone;
    for (i, (c, n)) in fields.iter().enumerate() {
        let s = caps.get(i + 1).map_or("", |m| m.as_str());
        let num = s.parse::<i64>().unwrap_or(0);
        match (c, n) {
            ('y', 2) => parts.year = if num > 60 { 1900 } else { 2000 } + num as i32,
            ('y', _) => parts.year = num as i32,
            ('M' | 'L', 3 | 4) => match month_from_name(s) {
                Some(m) => parts.month = m,
                None => return DateTime::invalid(format!("invalid month name {s}"), zone),
            },
            ('M' | 'L', _) => parts.month = num as u32,
            ('d', _) => parts.day = num as u32,
            ('H' | 'h', _) => parts.hour = num as u32,
            ('m', _) => parts.minute = num as u32,
            ('s', _) => parts.second = num as u32,
            ('S', 3) => parts.millisecond = num as u32,
            ('S', _) => parts.millisecond = num as u32,
            ('a', _) => pm = Some(s.eq_ignore_ascii_case("pm")),
            ('Z', _) => offset = parse_offset(s),
            ('z', _) => {
                if let Some(z) = Zone::parse(s) {
                    target = z;
                }
            }
            ('X', _) => return DateTime::from_millis(num * 1000, zone),
            ('x', _) => return DateTime::from_millis(num, zone),
            ('o', _) => ordinal = Some(num as u32),
            _ => {}
        }
    }
    if let Some(pm) = pm {
        parts.hour = parts.hour % 12 + if pm { 12 } else { 0 };
    }
    if let Some(o) = ordinal {
        match NaiveDate::from_yo_opt(parts.year, o) {
            Some(d) => {
                parts.month = d.month();
                parts.day = d.day();
            }
            None => return DateTime::invalid("invalid ordinal", zone),
        }
    }
    match offset {
        Some(o) => DateTime::from_parts(parts, Zone::Fixed(o)).set_zone(zone),
        None => DateTime::from_parts(parts, target).set_zone(zone),
    }
}

fn month_from_name(s: &str) -> Option<u32> {
    let lower = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| {
            let m = m.to_ascii_lowercase();
            m == lower || (lower.len() == 3 && m.starts_with(&lower))
        })
        .map(|i| i as u32 + 1)
}

/// ISO 8601 (and, with `sql`, the SQL `YYYY-MM-DD HH:mm:ss` form). Returns the wall-clock
/// parts and the offset written in the text, if any.
fn parse_iso_parts(s: &str, sql: bool) -> Option<(Parts, Option<FixedOffset>)> {
    let re = if sql { sql_regex() } else { iso_regex() };
    let caps = re.captures(s.trim())?;
    let num = |i: usize| caps.get(i).map(|m| m.as_str().parse::<u32>().unwrap_or(0));
    let frac = caps.get(7).map_or(0, |m| {
        let digits = format!("{:0<3}", &m.as_str()[..m.as_str().len().min(3)]);
        digits.parse::<u32>().unwrap_or(0)
    });
    let parts = Parts {
        year: caps.get(1)?.as_str().parse().ok()?,
        month: num(2).unwrap_or(1),
        day: num(3).unwrap_or(1),
        hour: num(4).unwrap_or(0),
        minute: num(5).unwrap_or(0),
        second: num(6).unwrap_or(0),
        millisecond: frac,
    };
    let offset = match caps.get(8) {
        Some(m) => Some(parse_offset(m.as_str())?),
        None => None,
    };
    Some((parts, offset))
}

fn iso_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^([+-]\d{6}|\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?(?:T(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$",
        )
        .expect("iso regex")
    })
}

fn sql_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)? ?(Z|[+-]\d{2}(?::?\d{2})?)?$",
        )
        .expect("sql regex")
    })
}

/// `DateTime.fromISO(text)` shown in `zone` (or in the text's own offset with `set_zone`).
pub fn from_iso(text: &str, zone: Zone, set_zone: bool) -> DateTime {
    from_iso_like(text, zone, set_zone, false)
}

/// `DateTime.fromSQL(text)`.
pub fn from_sql(text: &str, zone: Zone) -> DateTime {
    from_iso_like(text, zone, false, true)
}

fn from_iso_like(text: &str, zone: Zone, set_zone: bool, sql: bool) -> DateTime {
    match parse_iso_parts(text, sql) {
        Some((parts, Some(offset))) => {
            let dt = DateTime::from_parts(parts, Zone::Fixed(offset));
            if set_zone {
                dt
            } else {
                dt.set_zone(zone)
            }
        }
        Some((parts, None)) => DateTime::from_parts(parts, zone),
        None => DateTime::invalid(
            format!("the input \"{text}\" can't be parsed as ISO 8601"),
            zone,
        ),
    }
}

/// RFC 2822 / HTTP dates: `Tue, 01 Nov 2016 13:23:12 +0630`, `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn from_rfc2822(text: &str, zone: Zone) -> DateTime {
    match ChronoDt::parse_from_rfc2822(text.trim()) {
        Ok(dt) => DateTime::from_chrono(&dt, zone),
        Err(_) => DateTime::invalid(
            format!("the input \"{text}\" can't be parsed as RFC 2822"),
            zone,
        ),
    }
}

/// What `new Date(string)` / `Date.parse` accept: ISO (date-only forms are UTC, date-time forms
/// without offset are local), RFC 2822, and `Month D, YYYY [HH:mm[:ss]]` or `M/D/YYYY`.
pub fn parse_js_date(text: &str, local: Zone) -> Option<i64> {
    let t = text.trim();
    if let Some((parts, offset)) = parse_iso_parts(t, true).or_else(|| parse_iso_parts(t, false)) {
        let date_only = !t.contains([':', 'T']);
        let zone = match offset {
            Some(o) => Zone::Fixed(o),
            None if date_only => Zone::utc(),
            None => local,
        };
        let dt = DateTime::from_parts(parts, zone);
        return dt.is_valid().then(|| dt.millis());
    }
    if let Ok(dt) = ChronoDt::parse_from_rfc2822(t) {
        return Some(dt.timestamp_millis());
    }
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"^(?:[A-Za-z]+,? )?(?:([A-Za-z]+)\.? (\d{1,2}),? (\d{4})|(\d{1,2})/(\d{1,2})/(\d{4})|(\d{1,2}) ([A-Za-z]+) (\d{4}))(?:,? (\d{1,2}):(\d{2})(?::(\d{2}))? ?([AaPp][Mm])?)?(?: ?(?:GMT|UTC|Z)?([+-]\d{2}:?\d{2})?)?$",
        )
        .expect("date regex")
    });
    let caps = re.captures(t)?;
    let g = |i: usize| caps.get(i).map(|m| m.as_str());
    let n = |i: usize| g(i).and_then(|s| s.parse::<u32>().ok());
    let (year, month, day) = if let Some(name) = g(1) {
        (n(3)?, month_from_name(name)?, n(2)?)
    } else if g(4).is_some() {
        (n(6)?, n(4)?, n(5)?)
    } else {
        (n(9)?, month_from_name(g(8)?)?, n(7)?)
    };
    let mut hour = n(10).unwrap_or(0);
    if let Some(ap) = g(13) {
        hour = hour % 12 + if ap.eq_ignore_ascii_case("pm") { 12 } else { 0 };
    }
    let parts = Parts {
        year: year as i32,
        month,
        day,
        hour,
        minute: n(11).unwrap_or(0),
        second: n(12).unwrap_or(0),
        millisecond: 0,
    };
    let zone = match g(14) {
        Some(o) => Zone::Fixed(parse_offset(o)?),
        None if t.contains("GMT") || t.contains("UTC") => Zone::utc(),
        None => local,
    };
    let dt = DateTime::from_parts(parts, zone);
    dt.is_valid().then(|| dt.millis())
}

/// `Date.prototype.toISOString()` (None for an invalid date).
pub fn js_date_to_iso(ms: f64) -> Option<String> {
    if !ms.is_finite() {
        return None;
    }
    let dt = DateTime::from_millis(ms as i64, Zone::utc());
    Some(format!(
        "{}T{}Z",
        dt.to_iso_date(),
        dt.local().format("%H:%M:%S%.3f")
    ))
}

/// `Date.prototype.toString()` in UTC: `Mon Jan 01 2024 00:00:00 GMT+0000 (Coordinated Universal Time)`.
pub fn js_date_to_string(ms: f64) -> String {
    if !ms.is_finite() {
        return "Invalid Date".into();
    }
    let dt = DateTime::from_millis(ms as i64, Zone::utc());
    format!(
        "{} GMT+0000 (Coordinated Universal Time)",
        dt.to_format("EEE MMM dd yyyy HH:mm:ss")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::Named(Tz::UTC)
    }

    #[test]
    fn iso_round_trip_and_zones() {
        let dt = from_iso("2024-01-15T10:30:00Z", utc(), false);
        assert_eq!(dt.to_iso(), "2024-01-15T10:30:00.000+00:00");
        let ny = dt.set_zone(Zone::parse("America/New_York").unwrap());
        assert_eq!(ny.to_iso(), "2024-01-15T05:30:00.000-05:00");
        let kept = from_iso("2024-01-15T10:30:00+02:00", utc(), true);
        assert_eq!(kept.to_iso(), "2024-01-15T10:30:00.000+02:00");
        assert!(!from_iso("nope", utc(), false).is_valid());
    }

    #[test]
    fn format_tokens_en_us() {
        let dt = from_iso("2024-03-05T14:07:09.045", utc(), false);
        assert_eq!(
            dt.to_format("yyyy-MM-dd HH:mm:ss.SSS"),
            "2024-03-05 14:07:09.045"
        );
        assert_eq!(dt.to_format("d LLL yyyy, h:mm a"), "5 Mar 2024, 2:07 PM");
        assert_eq!(dt.to_format("cccc, LLLL d"), "Tuesday, March 5");
        assert_eq!(dt.to_format("EEE 'at' T ZZ"), "Tue at 14:07 +00:00");
        assert_eq!(dt.to_format("DD"), "Mar 5, 2024");
        assert_eq!(dt.to_format("q o W"), "1 65 10");
    }

    #[test]
    fn arithmetic() {
        let dt = from_iso("2024-01-31T12:00:00", utc(), false);
        assert_eq!(dt.plus(1.0, Unit::Month).to_iso_date(), "2024-02-29");
        assert_eq!(dt.plus(-1.0, Unit::Day).to_iso_date(), "2024-01-30");
        assert_eq!(
            dt.start_of(Unit::Week).to_iso(),
            "2024-01-29T00:00:00.000+00:00"
        );
        assert_eq!(
            dt.end_of(Unit::Month).to_iso(),
            "2024-01-31T23:59:59.999+00:00"
        );
        let later = from_iso("2024-03-31T12:00:00", utc(), false);
        assert_eq!(later.diff(&dt, Unit::Month), 2.0);
        assert_eq!(later.diff(&dt, Unit::Day), 60.0);
    }

    #[test]
    fn parse_formats() {
        let dt = from_format("15/01/2024 09:05", "dd/MM/yyyy HH:mm", utc());
        assert_eq!(dt.to_iso(), "2024-01-15T09:05:00.000+00:00");
        let dt = from_format("Jan 5 2024 3:04 PM", "LLL d yyyy h:mm a", utc());
        assert_eq!(dt.to_iso(), "2024-01-05T15:04:00.000+00:00");
        assert_eq!(parse_js_date("2024-01-01", utc()), Some(1_704_067_200_000));
        assert_eq!(
            parse_js_date("January 1, 2024", utc()),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            js_date_to_iso(1_704_067_200_000.0).unwrap(),
            "2024-01-01T00:00:00.000Z"
        );
    }
}
