//! The date and `/pattern/flags` regex parsing both condition formats share, so the filter and
//! legacy evaluators agree on them. JavaScript value semantics (`String(v)`, `Number(v)`,
//! truthiness, `===`) come from [`sluice_expr::json_js`].

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use regex::Regex;

/// The time zone naive date-times are read in (the workflow's; UTC when unknown).
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// Parse a date-time string the way n8n accepts them: ISO 8601 (date only, with or without
/// seconds, fraction and offset; `T` or space), RFC 2822. Naive values are read in `tz`.
pub fn parse_datetime(text: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d);
    }
    let (body, offset) = split_offset(t);
    const NAIVE: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ];
    let naive = NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(body, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(body, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    match offset {
        Some(offset) => offset.from_local_datetime(&naive).single(),
        None => tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|d| d.fixed_offset()),
    }
}

/// Split a trailing `Z`, `±hh:mm` or `±hhmm` off a date-time string.
fn split_offset(text: &str) -> (&str, Option<FixedOffset>) {
    if let Some(body) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return (body, FixedOffset::east_opt(0));
    }
    // Only look for an offset after the time part, so the date's dashes are left alone.
    let Some(time_start) = text.find(['T', ' ']) else {
        return (text, None);
    };
    let Some(sign_pos) = text[time_start..].rfind(['+', '-']).map(|p| p + time_start) else {
        return (text, None);
    };
    let digits: String = text[sign_pos + 1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return (text, None);
    }
    let hours: i32 = digits[..2].parse().unwrap_or(0);
    let minutes: i32 = digits[2..].parse().unwrap_or(0);
    let seconds = (hours * 60 + minutes) * 60;
    let offset = if text.as_bytes()[sign_pos] == b'-' {
        FixedOffset::west_opt(seconds)
    } else {
        FixedOffset::east_opt(seconds)
    };
    (&text[..sign_pos], offset)
}

/// Compile a JavaScript regex given as `/pattern/flags` or as a bare pattern. Flags `i`, `m`
/// and `s` carry over; `g`, `u`, `y` do not change whether a string matches.
pub fn compile_regex(source: &str, ignore_case: bool) -> Result<Regex, String> {
    let (pattern, flags) = split_regex_literal(source);
    let mut inline = String::new();
    for flag in flags.chars() {
        if matches!(flag, 'i' | 'm' | 's') && !inline.contains(flag) {
            inline.push(flag);
        }
    }
    if ignore_case && !inline.contains('i') {
        inline.push('i');
    }
    let full = if inline.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{inline}){pattern}")
    };
    Regex::new(&full).map_err(|e| {
        let reason = e.to_string();
        let last = reason.lines().last().unwrap_or_default().trim().to_string();
        format!("Invalid regular expression: /{pattern}/{flags}: {last}")
    })
}

/// `/body/flags` → (body, flags); anything else is a bare pattern.
fn split_regex_literal(source: &str) -> (&str, &str) {
    if let Some(rest) = source.strip_prefix('/') {
        if let Some(end) = rest.rfind('/') {
            let flags = &rest[end + 1..];
            if flags.chars().all(|c| "dgimsuvy".contains(c)) {
                return (&rest[..end], flags);
            }
        }
    }
    (source, "")
}
