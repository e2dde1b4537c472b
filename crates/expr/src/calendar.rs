//! en-US calendar names, UTC-offset text and units of time as luxon has them. Shared by the
//! luxon `DateTime` behind expressions (`toFormat`, `monthLong`, `plus`, ...) and by the Date &
//! Time node's own formatter, parser and arithmetic, so both spell months, weekdays, offsets and
//! units the same way.
//!
//! ```
//! use sluice_expr::calendar::{format_offset, OffsetStyle, MONTHS};
//! assert_eq!(MONTHS[0], "January");
//! assert_eq!(format_offset(-5 * 3600, OffsetStyle::Short), "-05:00");
//! assert_eq!(format_offset(19_800, OffsetStyle::Narrow), "+5:30");
//! ```

/// A unit of time as luxon and n8n's parameters name it (`days`, `day`, `d`, `quarters`, ...),
/// ordered from the largest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

impl Unit {
    /// Singular or plural unit names, plus n8n's short aliases.
    pub fn parse(name: &str) -> Option<Unit> {
        Some(match name {
            "year" | "years" | "y" | "yr" | "yrs" => Unit::Year,
            "quarter" | "quarters" | "q" => Unit::Quarter,
            "month" | "months" | "mo" => Unit::Month,
            "week" | "weeks" | "w" | "wk" | "wks" => Unit::Week,
            "day" | "days" | "d" => Unit::Day,
            "hour" | "hours" | "h" | "hr" | "hrs" => Unit::Hour,
            "minute" | "minutes" | "m" | "min" | "mins" => Unit::Minute,
            "second" | "seconds" | "s" | "sec" | "secs" => Unit::Second,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => Unit::Millisecond,
            _ => return None,
        })
    }

    /// luxon's plural key (`days`), used for `diff` results and `Duration` objects.
    pub fn plural(self) -> &'static str {
        match self {
            Unit::Year => "years",
            Unit::Quarter => "quarters",
            Unit::Month => "months",
            Unit::Week => "weeks",
            Unit::Day => "days",
            Unit::Hour => "hours",
            Unit::Minute => "minutes",
            Unit::Second => "seconds",
            Unit::Millisecond => "milliseconds",
        }
    }

    /// Length in milliseconds of the time units (hours and smaller), which move the instant;
    /// `None` for calendar units, which move the wall clock.
    pub fn fixed_millis(self) -> Option<f64> {
        Some(match self {
            Unit::Hour => 3_600_000.0,
            Unit::Minute => 60_000.0,
            Unit::Second => 1_000.0,
            Unit::Millisecond => 1.0,
            _ => return None,
        })
    }

    /// Length in milliseconds, calendar units approximated as luxon's casual conversions do
    /// (a week 7 days, a month 30, a quarter 91, a year 365).
    pub fn approx_millis(self) -> f64 {
        const DAY: f64 = 86_400_000.0;
        self.fixed_millis().unwrap_or(match self {
            Unit::Year => 365.0 * DAY,
            Unit::Quarter => 91.0 * DAY,
            Unit::Month => 30.0 * DAY,
            Unit::Week => 7.0 * DAY,
            _ => DAY,
        })
    }
}

/// Month names, January first.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Weekday names, Monday first (ISO order).
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// How a UTC offset is written (luxon's `Z`, `ZZ` and `ZZZ` tokens).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetStyle {
    /// `+5`, `+5:30` (`Z`).
    Narrow,
    /// `+05:00` (`ZZ`).
    Short,
    /// `+0500` (`ZZZ`).
    Techie,
}

/// A UTC offset of `secs` seconds east of UTC as text.
pub fn format_offset(secs: i32, style: OffsetStyle) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    match style {
        OffsetStyle::Narrow if m == 0 => format!("{sign}{h}"),
        OffsetStyle::Narrow => format!("{sign}{h}:{m:02}"),
        OffsetStyle::Short => format!("{sign}{h:02}:{m:02}"),
        OffsetStyle::Techie => format!("{sign}{h:02}{m:02}"),
    }
}
