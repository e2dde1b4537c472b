//! Number and boolean methods: JavaScript's (`toFixed`, `toString(radix)`, `toLocaleString`) and
//! n8n's extensions (`round`, `format`, `isEven`, `toDateTime`, `toBoolean`, ...).

use super::{arg, int_arg};
use crate::eval::Ctx;
use crate::luxon::{DateTime, Zone};
use crate::numfmt::{js_number_to_string, to_fixed, to_precision, to_radix};
use crate::value::*;
use crate::ExprError;
use std::rc::Rc;

/// `Math.round`: halves round towards +∞.
pub fn js_round(n: f64) -> f64 {
    if !n.is_finite() || n.fract() == 0.0 {
        n
    } else {
        (n + 0.5).floor()
    }
}

/// Separators (group, decimal) for the few locales we format numbers in.
fn separators(locale: &str) -> (&'static str, &'static str) {
    let lang = locale.split(['-', '_']).next().unwrap_or("en");
    match lang {
        "de" | "es" | "it" | "nl" | "pt" | "id" | "tr" | "da" => (".", ","),
        "fr" | "nb" | "no" | "sv" | "fi" | "cs" | "pl" | "ru" | "uk" | "sk" => ("\u{202f}", ","),
        "ch" => ("’", "."),
        _ => (",", "."),
    }
}

/// `Intl.NumberFormat(locale, options).format(n)` for decimal, percent and currency styles.
pub fn format_number(n: f64, locale: &str, options: &Val) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "∞" } else { "-∞" }.into();
    }
    let opt = |k: &str| options.own(k).filter(|v| !v.is_nullish());
    let style = opt("style").map_or("decimal".to_string(), |v| v.to_str().to_string());
    let currency = opt("currency").map(|v| v.to_str().to_uppercase());
    let (default_min, default_max) = match style.as_str() {
        "currency" => (2, 2),
        "percent" => (0, 0),
        _ => (0, 3),
    };
    let min = opt("minimumFractionDigits").map_or(default_min, |v| v.to_number() as usize);
    let max = opt("maximumFractionDigits")
        .map_or(default_max.max(min), |v| v.to_number() as usize)
        .max(min);
    let value = if style == "percent" { n * 100.0 } else { n };
    let fixed = to_fixed(value.abs(), max);
    let (int, mut frac) = match fixed.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (fixed, String::new()),
    };
    while frac.len() > min && frac.ends_with('0') {
        frac.pop();
    }
    let (group, decimal) = separators(locale);
    let use_grouping = opt("useGrouping").is_none_or(|v| v.truthy());
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if use_grouping && i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push_str(group);
        }
        grouped.push(c);
    }
    let mut body = grouped;
    if !frac.is_empty() {
        body.push_str(decimal);
        body.push_str(&frac);
    }
    let sign = if value < 0.0 && body.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    match style.as_str() {
        "percent" => format!("{sign}{body}%"),
        "currency" => {
            let code = currency.unwrap_or_else(|| "USD".into());
            let symbol = match code.as_str() {
                "USD" => "$",
                "EUR" => "€",
                "GBP" => "£",
                "JPY" => "¥",
                "INR" => "₹",
                other => other,
            };
            if decimal == "," {
                format!("{sign}{body}\u{a0}{symbol}")
            } else {
                format!("{sign}{symbol}{body}")
            }
        }
        _ => format!("{sign}{body}"),
    }
}

fn require_integer(n: f64, name: &str) -> Result<i64, ExprError> {
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(ExprError::eval(format!(
            "{name}() is only callable on whole numbers, not {}",
            js_number_to_string(n)
        )));
    }
    Ok(n as i64)
}

pub fn call<'a>(
    ctx: &mut Ctx<'a>,
    n: f64,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    Ok(Some(match name {
        "toFixed" => {
            let d = int_arg(args, 0, 0.0);
            if !(0.0..=100.0).contains(&d) {
                return Err(ExprError::eval(
                    "toFixed() digits argument must be between 0 and 100",
                ));
            }
            str_val(to_fixed(n, d as usize))
        }
        "toPrecision" => match arg(args, 0) {
            Val::Undefined => str_val(js_number_to_string(n)),
            p => {
                let p = p.to_number();
                if !(1.0..=100.0).contains(&p) {
                    return Err(ExprError::eval(
                        "toPrecision() argument must be between 1 and 100",
                    ));
                }
                str_val(to_precision(n, p as usize))
            }
        },
        "toString" => match arg(args, 0) {
            Val::Undefined => str_val(js_number_to_string(n)),
            r => {
                let r = r.to_number();
                if !(2.0..=36.0).contains(&r) {
                    return Err(ExprError::eval("toString() radix must be between 2 and 36"));
                }
                str_val(to_radix(n, r as u32))
            }
        },
        "valueOf" => Val::Num(n),
        "toLocaleString" | "format" => {
            let locale = match arg(args, 0) {
                Val::Undefined | Val::Null => JsStr::Borrowed("en-US"),
                v => v.to_str(),
            };
            str_val(format_number(n, &locale, &arg(args, 1)))
        }
        // n8n extensions
        "ceil" => Val::Num(n.ceil()),
        "floor" => Val::Num(n.floor()),
        "abs" => Val::Num(n.abs()),
        "round" => {
            let d = int_arg(args, 0, 0.0);
            let factor = 10f64.powf(d);
            Val::Num(js_round(n * factor) / factor)
        }
        "isInteger" => Val::Bool(n.is_finite() && n.fract() == 0.0),
        "isEven" => Val::Bool(require_integer(n, name)? % 2 == 0),
        "isOdd" => Val::Bool(require_integer(n, name)? % 2 != 0),
        "isEmpty" => Val::Bool(n == 0.0 || n.is_nan()),
        "isNotEmpty" => Val::Bool(!(n == 0.0 || n.is_nan())),
        "toBoolean" => Val::Bool(n != 0.0 && !n.is_nan()),
        "toInt" => Val::Num(n.trunc()),
        "toFloat" | "toNumber" => Val::Num(n),
        "toDateTime" => {
            let kind = match arg(args, 0) {
                Val::Undefined => JsStr::Borrowed("ms"),
                v => v.to_str(),
            };
            let ms = match &*kind {
                "ms" => n,
                "s" => n * 1000.0,
                // Excel serial days: day 25569 is 1970-01-01.
                "excel" => (n - 25569.0) * 86_400_000.0,
                other => {
                    return Err(ExprError::eval(format!(
                        "toDateTime(): unknown timestamp format '{other}' (use ms, s or excel)"
                    )))
                }
            };
            let dt = if &*kind == "excel" {
                // Excel serials are wall-clock days: keep the time of day in the workflow zone.
                let utc = DateTime::from_millis(ms.round() as i64, Zone::utc());
                DateTime::from_parts(utc.parts(), ctx.zone())
            } else {
                DateTime::from_millis(ms.round() as i64, ctx.zone())
            };
            Val::DateTime(Rc::new(dt))
        }
        _ => return Ok(None),
    }))
}

pub fn call_bool<'a>(
    ctx: &mut Ctx<'a>,
    b: bool,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let n = f64::from(u8::from(b));
    Ok(Some(match name {
        "toString" => str_val(if b { "true" } else { "false" }),
        "valueOf" | "toBoolean" => Val::Bool(b),
        "toInt" | "toFloat" | "toNumber" => Val::Num(n),
        "isEmpty" => Val::Bool(false),
        "isNotEmpty" => Val::Bool(true),
        "toDateTime" => return call(ctx, n, name, args),
        _ => return Ok(None),
    }))
}
