//! en-US calendar names and UTC-offset text as luxon prints them. Shared by the luxon
//! `DateTime` behind expressions (`toFormat`, `monthLong`, ...) and by the Date & Time node's
//! own formatter and parser, so both spell months, weekdays and offsets the same way.
//!
//! ```
//! use sluice_expr::calendar::{format_offset, OffsetStyle, MONTHS};
//! assert_eq!(MONTHS[0], "January");
//! assert_eq!(format_offset(-5 * 3600, OffsetStyle::Short), "-05:00");
//! assert_eq!(format_offset(19_800, OffsetStyle::Narrow), "+5:30");
//! ```

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
