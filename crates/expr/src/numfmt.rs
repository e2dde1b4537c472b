//! JavaScript number <-> string conversions (`Number::toString`, `toFixed`, `toPrecision`,
//! radix output, and `ToNumber` on strings), which differ from Rust's formatting in exponent
//! thresholds, `-0`, `NaN`/`Infinity` spelling and whitespace handling.

/// Shortest round-trip digits and decimal exponent: `value = 0.d1d2... * 10^n`.
fn shortest_digits(x: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest round-trip representation, e.g. `1.2345e4`.
    let s = format!("{:e}", x.abs());
    let (mantissa, exp) = s.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp + 1)
}

/// `Number.prototype.toString()` (radix 10).
pub fn js_number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let (digits, n) = shortest_digits(x);
    let k = digits.len() as i32;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign_e = if e < 0 { '-' } else { '+' };
        if k == 1 {
            format!("{digits}e{sign_e}{}", e.abs())
        } else {
            format!("{}.{}e{sign_e}{}", &digits[..1], &digits[1..], e.abs())
        }
    };
    format!("{sign}{body}")
}

/// `Number.prototype.toFixed(digits)`.
pub fn to_fixed(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return js_number_to_string(x);
    }
    if x.abs() >= 1e21 {
        return js_number_to_string(x);
    }
    // JS rounds the exact binary value half-up; Rust's formatting rounds the exact value
    // half-to-even, which only differs on exact ties (e.g. 0.5, 2.5).
    let s = format!("{:.*}", digits, x);
    let long = format!("{:.*}", digits + 30, x.abs());
    let tail = &long[long.len() - 30..];
    let exact_tie = tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0');
    let s = if exact_tie {
        let up = x.abs() + 0.5 * 10f64.powi(-(digits as i32));
        format!("{}{:.*}", if x < 0.0 { "-" } else { "" }, digits, up)
    } else {
        s
    };
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// `Number.prototype.toPrecision(p)`.
pub fn to_precision(x: f64, p: usize) -> String {
    if !x.is_finite() {
        return js_number_to_string(x);
    }
    if x == 0.0 {
        return if p > 1 {
            format!("0.{}", "0".repeat(p - 1))
        } else {
            "0".into()
        };
    }
    let sign = if x < 0.0 { "-" } else { "" };
    let s = format!("{:.*e}", p - 1, x.abs());
    let (mantissa, exp) = s.split_once('e').expect("exponent form");
    let e: i32 = exp.parse().expect("exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let body = if e < -6 || e >= p as i32 {
        let rest = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        format!(
            "{}{rest}e{}{}",
            &digits[..1],
            if e < 0 { '-' } else { '+' },
            e.abs()
        )
    } else if e >= 0 {
        let int = (e + 1) as usize;
        if int >= digits.len() {
            digits
        } else {
            format!("{}.{}", &digits[..int], &digits[int..])
        }
    } else {
        format!("0.{}{digits}", "0".repeat((-e - 1) as usize))
    };
    format!("{sign}{body}")
}

/// `Number.prototype.toString(radix)` for radix != 10.
pub fn to_radix(x: f64, radix: u32) -> String {
    if !x.is_finite() || radix == 10 {
        return js_number_to_string(x);
    }
    let neg = x < 0.0;
    let mut int = x.abs().trunc();
    let mut frac = x.abs().fract();
    let mut digits = Vec::new();
    if int == 0.0 {
        digits.push('0');
    }
    while int >= 1.0 {
        let d = (int % radix as f64) as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        int = (int / radix as f64).trunc();
    }
    digits.reverse();
    let mut out: String = digits.into_iter().collect();
    if frac > 0.0 {
        out.push('.');
        let mut n = 0;
        while frac > 0.0 && n < 52 {
            frac *= radix as f64;
            let d = frac.trunc() as u32;
            out.push(std::char::from_digit(d, radix).unwrap_or('0'));
            frac -= d as f64;
            n += 1;
        }
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// `ToNumber` applied to a string: trimmed; empty is 0; hex/octal/binary prefixes; otherwise the
/// whole text must be a decimal literal (or `Infinity`), else `NaN`.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        return u64::from_str_radix(&t[2..], radix).map_or(f64::NAN, |v| v as f64);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let valid = t
        .trim_start_matches(['+', '-'])
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && t.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// `parseFloat`: the longest decimal prefix after leading whitespace.
pub fn parse_float(s: &str) -> f64 {
    let t = s.trim_start();
    let unsigned = t.trim_start_matches(['+', '-']);
    if unsigned.starts_with("Infinity") {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i == digits_start || &t[digits_start..i] == "." {
        return f64::NAN;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_digits = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_digits {
            i = j;
        }
    }
    t[..i].parse().unwrap_or(f64::NAN)
}

/// `parseInt(s, radix)`.
pub fn parse_int(s: &str, radix: Option<u32>) -> f64 {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = match radix {
        None | Some(0) | Some(16) if t.starts_with("0x") || t.starts_with("0X") => (16, &t[2..]),
        None | Some(0) => (10, t),
        Some(r) if (2..=36).contains(&r) => (r, t),
        Some(_) => return f64::NAN,
    };
    let mut value = 0f64;
    let mut any = false;
    for c in t.chars() {
        match c.to_digit(radix) {
            Some(d) => {
                value = value * radix as f64 + d as f64;
                any = true;
            }
            None => break,
        }
    }
    if !any {
        return f64::NAN;
    }
    if neg {
        -value
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_to_string_matches_js() {
        for (x, s) in [
            (1.0, "1"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (2f64.powi(53), "9007199254740992"),
        ] {
            assert_eq!(js_number_to_string(x), s, "{x}");
        }
    }

    #[test]
    fn fixed_precision_radix() {
        assert_eq!(to_fixed(1.005, 2), "1.00");
        assert_eq!(to_fixed(2.5, 0), "3");
        assert_eq!(to_fixed(1.45, 1), "1.4");
        assert_eq!(to_fixed(-0.0001, 2), "0.00");
        assert_eq!(to_precision(123.456, 4), "123.5");
        assert_eq!(to_precision(0.00012, 2), "0.00012");
        assert_eq!(to_precision(123456.0, 2), "1.2e+5");
        assert_eq!(to_radix(255.0, 16), "ff");
        assert_eq!(to_radix(-5.0, 2), "-101");
    }

    #[test]
    fn parsing() {
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number(""), 0.0);
        assert!(string_to_number("12px").is_nan());
        assert_eq!(string_to_number("0x10"), 16.0);
        assert_eq!(parse_float("2.5abc"), 2.5);
        assert_eq!(parse_int("42px", None), 42.0);
        assert_eq!(parse_int("ff", Some(16)), 255.0);
        assert!(parse_int("abc", None).is_nan());
    }
}
