//! Value parsers shared by the commands' flags, so `30s` or `0.1%` mean the same everywhere.

use std::time::Duration;

/// A duration written as a number and a unit: `500ms`, `30s`, `2m`, `1h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration '{text}' (expected e.g. 500ms, 30s, 2m)");
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(invalid()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid())
}

/// A share between 0 and 1, written as a fraction (`0.01`) or a percentage (`1%`).
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let invalid =
        || format!("invalid rate '{text}' (expected a fraction like 0.01 or a percentage like 1%)");
    let value = match text.trim().strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map_err(|_| invalid())? / 100.0,
        None => text.trim().parse::<f64>().map_err(|_| invalid())?,
    };
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["", "10x", "s", "-1s", "1e400s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fractions_take_percentages() {
        assert_eq!(parse_fraction("0.25"), Ok(0.25));
        assert_eq!(parse_fraction("1%"), Ok(0.01));
        assert_eq!(parse_fraction("0"), Ok(0.0));
        for bad in ["1.5", "-0.1", "abc", "200%"] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
        }
    }
}
