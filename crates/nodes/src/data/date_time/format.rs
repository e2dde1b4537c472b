//! Date format patterns in the two dialects the Date & Time node speaks: moment.js tokens
//! (`YYYY-MM-DD`, v1) and Luxon tokens (`yyyy-MM-dd`, v2). Both compile to the same pieces, which
//! render a zoned date and drive the format-based parser in `parse.rs`.

use chrono::{DateTime, Datelike, Offset, Timelike};
use chrono_tz::{OffsetName, Tz};
use sluice_expr::calendar::{format_offset, OffsetStyle, MONTHS, WEEKDAYS};

/// Which token language a pattern is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Moment,
    Luxon,
}

/// One date component a token stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Year4,
    Year2,
    YearPlain,
    Quarter,
    Month(Width),
    Day(Width),
    DayOfYear(Width),
    Weekday(Width),
    /// Monday = 1 ... Sunday = 7.
    WeekdayIso,
    /// Sunday = 0 ... Saturday = 6 (moment `d`).
    WeekdaySunday0,
    IsoWeek(Width),
    IsoWeekYear,
    Hour24(Width),
    Hour12(Width),
    /// 1..24 (moment `k`).
    Hour24From1(Width),
    Minute(Width),
    Second(Width),
    /// The first `n` digits of the fractional second.
    Fraction(usize),
    /// Milliseconds without padding (Luxon `S`).
    Millis,
    Meridiem {
        upper: bool,
    },
    /// `+05:00` (colon) or `+0500`; `short` is Luxon's `+5`.
    Offset {
        colon: bool,
        short: bool,
    },
    ZoneAbbreviation,
    ZoneName,
    UnixSeconds,
    UnixMillis,
}

/// How a textual or numeric field is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// No padding.
    Plain,
    /// Zero-padded to two (three for day of year) digits.
    Padded,
    Ordinal,
    /// `Jan`, `Tue`.
    Short,
    /// `January`, `Tuesday`.
    Long,
    /// `Tu` (moment `dd`) or `J` (Luxon narrow).
    Min,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    Literal(String),
    Field(Field),
}

/// Compile `pattern` into pieces.
pub fn compile(pattern: &str, dialect: Dialect) -> Vec<Piece> {
    let mut pieces = Vec::new();
    match dialect {
        Dialect::Moment => moment_pieces(pattern, &mut pieces),
        Dialect::Luxon => luxon_pieces(pattern, &mut pieces),
    }
    pieces
}

/// Render `date` with `pattern`.
pub fn format(date: &DateTime<Tz>, pattern: &str, dialect: Dialect) -> String {
    render(date, &compile(pattern, dialect))
}

fn push_literal(pieces: &mut Vec<Piece>, text: &str) {
    if let Some(Piece::Literal(last)) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Literal(text.to_string()));
    }
}

/// moment tokens, longest first so `MMMM` wins over `MM`.
const MOMENT_TOKENS: &[(&str, Field)] = {
    use Field::*;
    use Width::*;
    &[
        ("YYYY", Year4),
        ("GGGG", IsoWeekYear),
        ("MMMM", Month(Long)),
        ("DDDD", DayOfYear(Padded)),
        ("dddd", Weekday(Long)),
        ("SSS", Fraction(3)),
        ("MMM", Month(Short)),
        ("DDD", DayOfYear(Plain)),
        ("ddd", Weekday(Short)),
        ("YY", Year2),
        ("MM", Month(Padded)),
        ("Mo", Month(Ordinal)),
        ("DD", Day(Padded)),
        ("Do", Day(Ordinal)),
        ("dd", Weekday(Min)),
        ("WW", IsoWeek(Padded)),
        ("Wo", IsoWeek(Ordinal)),
        ("HH", Hour24(Padded)),
        ("hh", Hour12(Padded)),
        ("kk", Hour24From1(Padded)),
        ("mm", Minute(Padded)),
        ("ss", Second(Padded)),
        ("SS", Fraction(2)),
        (
            "ZZ",
            Offset {
                colon: false,
                short: false,
            },
        ),
        ("Q", Quarter),
        ("M", Month(Plain)),
        ("D", Day(Plain)),
        ("d", WeekdaySunday0),
        ("E", WeekdayIso),
        ("W", IsoWeek(Plain)),
        ("H", Hour24(Plain)),
        ("h", Hour12(Plain)),
        ("k", Hour24From1(Plain)),
        ("m", Minute(Plain)),
        ("s", Second(Plain)),
        ("S", Fraction(1)),
        ("A", Meridiem { upper: true }),
        ("a", Meridiem { upper: false }),
        (
            "Z",
            Offset {
                colon: true,
                short: false,
            },
        ),
        ("z", ZoneAbbreviation),
        ("X", UnixSeconds),
        ("x", UnixMillis),
    ]
};

/// moment's en-US localized formats.
const MOMENT_LOCALIZED: &[(&str, &str)] = &[
    ("LLLL", "dddd, MMMM D, YYYY h:mm A"),
    ("LLL", "MMMM D, YYYY h:mm A"),
    ("LTS", "h:mm:ss A"),
    ("LL", "MMMM D, YYYY"),
    ("LT", "h:mm A"),
    ("L", "MM/DD/YYYY"),
];

fn moment_pieces(pattern: &str, pieces: &mut Vec<Piece>) {
    let mut rest = pattern;
    'outer: while let Some(c) = rest.chars().next() {
        if c == '[' {
            let end = rest.find(']').unwrap_or(rest.len());
            push_literal(pieces, &rest[1..end]);
            rest = rest.get(end + 1..).unwrap_or("");
            continue;
        }
        for (token, expansion) in MOMENT_LOCALIZED {
            if let Some(after) = rest.strip_prefix(token) {
                moment_pieces(expansion, pieces);
                rest = after;
                continue 'outer;
            }
        }
        if rest.starts_with("SSSS") {
            let n = rest.chars().take_while(|&c| c == 'S').count();
            pieces.push(Piece::Field(Field::Fraction(n)));
            rest = &rest[n..];
            continue;
        }
        for (token, field) in MOMENT_TOKENS {
            if let Some(after) = rest.strip_prefix(token) {
                pieces.push(Piece::Field(*field));
                rest = after;
                continue 'outer;
            }
        }
        push_literal(pieces, &rest[..c.len_utf8()]);
        rest = &rest[c.len_utf8()..];
    }
}

/// Luxon's en-US localized formats.
fn luxon_localized(c: char, n: usize) -> Option<&'static str> {
    Some(match (c, n) {
        ('D', 1) => "M/d/yyyy",
        ('D', 2) => "MMM d, yyyy",
        ('D', 3) => "MMMM d, yyyy",
        ('D', 4) => "EEEE, MMMM d, yyyy",
        ('t', 1) => "h:mm a",
        ('t', 2) => "h:mm:ss a",
        ('T', 1) => "HH:mm",
        ('T', 2) => "HH:mm:ss",
        ('f', 1) => "M/d/yyyy, h:mm a",
        ('f', 2) => "MMM d, yyyy, h:mm a",
        ('F', 1) => "M/d/yyyy, h:mm:ss a",
        ('F', 2) => "MMM d, yyyy, h:mm:ss a",
        _ => return None,
    })
}

fn luxon_field(c: char, n: usize) -> Option<Field> {
    use Field::*;
    use Width::*;
    let width = |plain_max: usize| match n {
        1 => Plain,
        x if x <= plain_max => Padded,
        3 => Short,
        4 => Long,
        _ => Min,
    };
    Some(match (c, n) {
        ('y', 1) => YearPlain,
        ('y', 2) => Year2,
        ('y', _) => Year4,
        ('k', _) => IsoWeekYear,
        ('q', _) => Quarter,
        ('M' | 'L', _) => Month(width(2)),
        ('d', 1) => Day(Plain),
        ('d', _) => Day(Padded),
        ('o', 1) => DayOfYear(Plain),
        ('o', _) => DayOfYear(Padded),
        ('E' | 'c', 1) => WeekdayIso,
        ('E' | 'c', _) => Weekday(width(1)),
        ('W', 1) => IsoWeek(Plain),
        ('W', _) => IsoWeek(Padded),
        ('H', 1) => Hour24(Plain),
        ('H', _) => Hour24(Padded),
        ('h', 1) => Hour12(Plain),
        ('h', _) => Hour12(Padded),
        ('m', 1) => Minute(Plain),
        ('m', _) => Minute(Padded),
        ('s', 1) => Second(Plain),
        ('s', _) => Second(Padded),
        ('S', 1) => Millis,
        ('S', _) => Fraction(3),
        ('u', _) => Fraction(3),
        ('a', _) => Meridiem { upper: true },
        ('Z', 1) => Offset {
            colon: true,
            short: true,
        },
        ('Z', 2) => Offset {
            colon: true,
            short: false,
        },
        ('Z', 3) => Offset {
            colon: false,
            short: false,
        },
        ('Z', _) => ZoneAbbreviation,
        ('z', _) => ZoneName,
        ('X', _) => UnixSeconds,
        ('x', _) => UnixMillis,
        _ => return None,
    })
}

fn luxon_pieces(pattern: &str, pieces: &mut Vec<Piece>) {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&q| q == '\'')
                .map_or(chars.len(), |p| i + 1 + p);
            let text: String = chars[i + 1..end].iter().collect();
            push_literal(pieces, if end == i + 1 { "'" } else { &text });
            i = end + 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|&&x| x == c).count();
        if let Some(expansion) = luxon_localized(c, n) {
            luxon_pieces(expansion, pieces);
        } else if let Some(field) = luxon_field(c, n) {
            pieces.push(Piece::Field(field));
        } else {
            push_literal(pieces, &chars[i..i + n].iter().collect::<String>());
        }
        i += n;
    }
}

pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn number(n: u32, width: Width, pad: usize) -> String {
    match width {
        Width::Padded => format!("{n:0pad$}"),
        Width::Ordinal => ordinal(n),
        _ => n.to_string(),
    }
}

fn name(full: &str, width: Width) -> String {
    match width {
        Width::Long => full.to_string(),
        Width::Short => full[..3].to_string(),
        _ => full[..2].to_string(),
    }
}

/// `+05:00` (`colon`), `+0500`, or Luxon's short `+5` (`short`).
fn offset_text(seconds: i32, colon: bool, short: bool) -> String {
    let style = match (short, colon) {
        (true, _) => OffsetStyle::Narrow,
        (false, true) => OffsetStyle::Short,
        (false, false) => OffsetStyle::Techie,
    };
    format_offset(seconds, style)
}

/// Render one field of `date`.
pub fn render_field(date: &DateTime<Tz>, field: Field) -> String {
    use Field::*;
    match field {
        Year4 => format!("{:04}", date.year()),
        Year2 => format!("{:02}", date.year().rem_euclid(100)),
        YearPlain => date.year().to_string(),
        IsoWeekYear => format!("{:04}", date.iso_week().year()),
        Quarter => ((date.month() - 1) / 3 + 1).to_string(),
        Month(w @ (Width::Short | Width::Long)) => name(MONTHS[date.month0() as usize], w),
        Month(Width::Min) => MONTHS[date.month0() as usize][..1].to_string(),
        Month(w) => number(date.month(), w, 2),
        Day(w) => number(date.day(), w, 2),
        DayOfYear(w) => number(date.ordinal(), w, 3),
        Weekday(w) => name(WEEKDAYS[date.weekday().num_days_from_monday() as usize], w),
        WeekdayIso => date.weekday().number_from_monday().to_string(),
        WeekdaySunday0 => date.weekday().num_days_from_sunday().to_string(),
        IsoWeek(w) => number(date.iso_week().week(), w, 2),
        Hour24(w) => number(date.hour(), w, 2),
        Hour12(w) => number(date.hour12().1, w, 2),
        Hour24From1(w) => number(if date.hour() == 0 { 24 } else { date.hour() }, w, 2),
        Minute(w) => number(date.minute(), w, 2),
        Second(w) => number(date.second(), w, 2),
        Fraction(n) => {
            let digits = format!("{:09}", date.nanosecond() % 1_000_000_000);
            format!("{:0<n$}", &digits[..n.min(9)])
        }
        Millis => (date.timestamp_subsec_millis()).to_string(),
        Meridiem { upper } => {
            let text = if date.hour() < 12 { "AM" } else { "PM" };
            if upper {
                text.to_string()
            } else {
                text.to_lowercase()
            }
        }
        Offset { colon, short } => offset_text(date.offset().fix().local_minus_utc(), colon, short),
        ZoneAbbreviation => date
            .offset()
            .abbreviation()
            .map(str::to_string)
            .unwrap_or_else(|| offset_text(date.offset().fix().local_minus_utc(), true, false)),
        ZoneName => date.timezone().name().to_string(),
        UnixSeconds => date.timestamp().to_string(),
        UnixMillis => date.timestamp_millis().to_string(),
    }
}

pub fn render(date: &DateTime<Tz>, pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Field(field) => out.push_str(&render_field(date, *field)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> DateTime<Tz> {
        Tz::UTC.with_ymd_and_hms(2023, 4, 11, 13, 51, 59).unwrap()
            + chrono::Duration::milliseconds(965)
    }

    #[test]
    fn moment_tokens() {
        let d = sample();
        assert_eq!(format(&d, "YYYY/MM/DD", Dialect::Moment), "2023/04/11");
        assert_eq!(
            format(&d, "MMMM Do YYYY, h:mm:ss a", Dialect::Moment),
            "April 11th 2023, 1:51:59 pm"
        );
        assert_eq!(
            format(&d, "[Today is] dddd", Dialect::Moment),
            "Today is Tuesday"
        );
        assert_eq!(format(&d, "X", Dialect::Moment), "1681221119");
        assert_eq!(format(&d, "LL", Dialect::Moment), "April 11, 2023");
    }

    #[test]
    fn luxon_tokens() {
        let d = sample();
        assert_eq!(format(&d, "yyyy/MM/dd", Dialect::Luxon), "2023/04/11");
        assert_eq!(
            format(&d, "EEE, MMM d 'at' HH:mm:ss.SSS ZZ", Dialect::Luxon),
            "Tue, Apr 11 at 13:51:59.965 +00:00"
        );
        assert_eq!(format(&d, "DD", Dialect::Luxon), "Apr 11, 2023");
        assert_eq!(format(&d, "x", Dialect::Luxon), "1681221119965");
    }
}
