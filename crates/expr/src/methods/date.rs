//! Date methods: luxon `DateTime` getters and methods (`toFormat`, `plus`, `startOf`, `diff`,
//! ...), n8n's date extensions (`format`, `beginningOf`, `isBetween`, `diffTo`, ...) and the
//! JavaScript `Date` methods (`getTime`, `toISOString`, `getFullYear`, ...).

use super::arg;
use crate::calendar::{MONTHS, WEEKDAYS};
use crate::eval::Ctx;
use crate::luxon::{self, DateTime, Parts, Unit, Zone};
use crate::value::*;
use crate::ExprError;
use chrono::Datelike;
use std::rc::Rc;

fn dt_val<'a>(dt: DateTime) -> Val<'a> {
    Val::DateTime(Rc::new(dt))
}

/// A DateTime from a DateTime, JS Date, epoch milliseconds or a date string (ISO, SQL,
/// RFC 2822/HTTP, digits as epoch milliseconds), shown in the workflow zone.
pub fn datetime_from_value(ctx: &Ctx, v: &Val) -> Option<DateTime> {
    let zone = ctx.zone();
    match v {
        Val::DateTime(dt) => Some((**dt).clone()),
        Val::Date(ms) if ms.is_finite() => Some(DateTime::from_millis(*ms as i64, zone)),
        Val::Num(n) if n.is_finite() => Some(DateTime::from_millis(*n as i64, zone)),
        Val::Str(s) => {
            let t = s.trim();
            if t.len() > 8 && t.bytes().all(|b| b.is_ascii_digit()) {
                return t
                    .parse::<i64>()
                    .ok()
                    .map(|ms| DateTime::from_millis(ms, zone));
            }
            [
                luxon::from_iso(t, zone, false),
                luxon::from_sql(t, zone),
                luxon::from_rfc2822(t, zone),
            ]
            .into_iter()
            .find(DateTime::is_valid)
            .or_else(|| luxon::parse_js_date(t, zone).map(|ms| DateTime::from_millis(ms, zone)))
        }
        _ => None,
    }
}

/// The `(unit, amount)` pairs of a luxon duration-like object (`{days: 1, hours: 2}`).
fn duration_parts(v: &Val) -> Result<Vec<(Unit, f64)>, ExprError> {
    v.entries()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, amount)| {
            Unit::parse(&k)
                .map(|u| (u, amount.to_number()))
                .ok_or_else(|| ExprError::eval(format!("Invalid unit {}", &*k)))
        })
        .collect()
}

fn unit_arg(v: &Val) -> Result<Unit, ExprError> {
    let name = v.to_str();
    Unit::parse(&name).ok_or_else(|| ExprError::eval(format!("Invalid unit {}", &*name)))
}

/// `plus`/`minus` arguments: a duration object, `(n, unit)` (n8n), or milliseconds.
fn shift(dt: &DateTime, args: &[Val], sign: f64) -> Result<DateTime, ExprError> {
    let first = arg(args, 0);
    let parts = match (&first, args.get(1)) {
        (Val::Num(_) | Val::Str(_), Some(unit)) if !unit.is_nullish() => {
            vec![(unit_arg(unit)?, first.to_number())]
        }
        (Val::Num(n), _) => vec![(Unit::Millisecond, *n)],
        _ => duration_parts(&first)?,
    };
    Ok(parts
        .into_iter()
        .fold(dt.clone(), |acc, (u, n)| acc.plus(sign * n, u)))
}

/// luxon's `diff` in one or several units; several units give an object, larger units first.
fn diff_val<'a>(
    a: &DateTime,
    b: &DateTime,
    units: &Val<'a>,
    object: bool,
) -> Result<Val<'a>, ExprError> {
    let list: Vec<Unit> = match units.list() {
        Some(l) => l.iter().map(unit_arg).collect::<Result<_, _>>()?,
        None if units.is_nullish() => vec![Unit::Millisecond],
        None => vec![unit_arg(units)?],
    };
    if list.len() == 1 && !object {
        return Ok(Val::Num(a.diff(b, list[0])));
    }
    let mut sorted = list;
    sorted.sort_by_key(|u| *u as u8);
    let mut out = Obj::default();
    let mut cursor = b.clone();
    for (i, u) in sorted.iter().enumerate() {
        let amount = a.diff(&cursor, *u);
        let whole = if i + 1 == sorted.len() {
            amount
        } else {
            amount.trunc()
        };
        cursor = cursor.plus(whole, *u);
        out.set(JsStr::Borrowed(u.plural()), Val::Num(whole));
    }
    Ok(new_obj(out))
}

pub fn datetime_property<'a>(dt: &DateTime, key: &str) -> Val<'a> {
    if !dt.is_valid() {
        return match key {
            "isValid" => Val::Bool(false),
            "invalidReason" => str_val(dt.invalid.clone().unwrap_or_default()),
            _ => Val::Null,
        };
    }
    let p = dt.parts();
    let l = dt.local();
    let num = |n: f64| Val::Num(n);
    match key {
        "year" => num(f64::from(p.year)),
        "month" => num(f64::from(p.month)),
        "day" => num(f64::from(p.day)),
        "hour" => num(f64::from(p.hour)),
        "minute" => num(f64::from(p.minute)),
        "second" => num(f64::from(p.second)),
        "millisecond" => num(f64::from(p.millisecond)),
        "weekday" => num(f64::from(dt.weekday())),
        "weekdayLong" => str_val(WEEKDAYS[dt.weekday() as usize - 1]),
        "weekdayShort" => str_val(&WEEKDAYS[dt.weekday() as usize - 1][..3]),
        "monthLong" => str_val(MONTHS[p.month as usize - 1]),
        "monthShort" => str_val(&MONTHS[p.month as usize - 1][..3]),
        "quarter" => num(f64::from((p.month - 1) / 3 + 1)),
        "ordinal" => num(f64::from(l.ordinal())),
        "weekNumber" => num(f64::from(l.iso_week().week())),
        "weekYear" => num(f64::from(l.iso_week().year())),
        "daysInMonth" => num(f64::from(dt.end_of(Unit::Month).parts().day)),
        "daysInYear" => num(if l.date().leap_year() { 366.0 } else { 365.0 }),
        "isInLeapYear" => Val::Bool(l.date().leap_year()),
        "zoneName" => str_val(dt.zone.name()),
        "zone" => obj_from([
            ("name", str_val(dt.zone.name())),
            (
                "type",
                str_val(match dt.zone {
                    Zone::Named(_) => "iana",
                    Zone::Fixed(_) => "fixed",
                }),
            ),
        ]),
        "offset" => num(f64::from(dt.offset_minutes())),
        "offsetNameShort" => str_val(dt.to_format("ZZZZ")),
        "isOffsetFixed" => Val::Bool(matches!(dt.zone, Zone::Fixed(_))),
        "isInDST" => Val::Bool(is_dst(dt)),
        "isWeekend" => Val::Bool(dt.weekday() >= 6),
        "isValid" => Val::Bool(true),
        "invalidReason" => Val::Null,
        "locale" => str_val("en-US"),
        "ts" => num(dt.millis() as f64),
        _ => Val::Undefined,
    }
}

/// True when the offset is larger than the zone's offset in January or July, whichever is less.
fn is_dst(dt: &DateTime) -> bool {
    let year = dt.parts().year;
    let at = |month| {
        DateTime::from_parts(
            Parts {
                year,
                month,
                day: 1,
                ..Parts::default()
            },
            dt.zone,
        )
        .offset_minutes()
    };
    let standard = at(1).min(at(7));
    dt.offset_minutes() > standard
}

fn relative(dt: &DateTime, now: &DateTime) -> String {
    let diff_ms = dt.millis() - now.millis();
    let units = [
        (Unit::Year, "year"),
        (Unit::Month, "month"),
        (Unit::Day, "day"),
        (Unit::Hour, "hour"),
        (Unit::Minute, "minute"),
        (Unit::Second, "second"),
    ];
    for (unit, name) in units {
        let amount = (dt.diff(now, unit)).trunc();
        if amount != 0.0 || unit == Unit::Second {
            let n = amount.abs() as i64;
            let plural = if n == 1 { "" } else { "s" };
            return if diff_ms >= 0 {
                format!("in {n} {name}{plural}")
            } else {
                format!("{n} {name}{plural} ago")
            };
        }
    }
    unreachable!("seconds always match")
}

pub fn call_datetime<'a>(
    ctx: &mut Ctx<'a>,
    dt: &Rc<DateTime>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let other = |i: usize| -> Result<DateTime, ExprError> {
        datetime_from_value(ctx, &arg(args, i))
            .filter(DateTime::is_valid)
            .ok_or_else(|| {
                ExprError::eval(format!(
                    "{name}(): '{}' is not a valid date",
                    arg(args, i).to_str()
                ))
            })
    };
    let now = || DateTime::from_chrono(&ctx.now(), ctx.zone());
    Ok(Some(match name {
        "toISO" | "toJSON" | "toString" => {
            if dt.is_valid() {
                str_val(dt.to_iso())
            } else if name == "toString" {
                str_val("Invalid DateTime")
            } else {
                Val::Null
            }
        }
        "toISODate" => str_val(dt.to_iso_date()),
        "toISOTime" => str_val(dt.to_iso_time()),
        "toMillis" | "valueOf" => Val::Num(dt.millis() as f64),
        "toSeconds" => Val::Num(dt.millis() as f64 / 1000.0),
        "toUnixInteger" => Val::Num(dt.millis().div_euclid(1000) as f64),
        "toFormat" | "format" => str_val(dt.to_format(&arg(args, 0).to_str())),
        "toLocaleString" => str_val(dt.to_locale_string()),
        "toSQL" => str_val(dt.to_format("yyyy-MM-dd HH:mm:ss.SSS ZZ")),
        "toSQLDate" => str_val(dt.to_format("yyyy-MM-dd")),
        "toSQLTime" => str_val(dt.to_format("HH:mm:ss.SSS ZZ")),
        "toRFC2822" => str_val(dt.to_format("EEE, dd LLL yyyy HH:mm:ss ZZZ")),
        "toHTTP" => str_val(
            dt.set_zone(Zone::utc())
                .to_format("EEE, dd LLL yyyy HH:mm:ss 'GMT'"),
        ),
        "toJSDate" => Val::Date(dt.millis() as f64),
        "toObject" => {
            let p = dt.parts();
            obj_from([
                ("year", Val::Num(f64::from(p.year))),
                ("month", Val::Num(f64::from(p.month))),
                ("day", Val::Num(f64::from(p.day))),
                ("hour", Val::Num(f64::from(p.hour))),
                ("minute", Val::Num(f64::from(p.minute))),
                ("second", Val::Num(f64::from(p.second))),
                ("millisecond", Val::Num(f64::from(p.millisecond))),
            ])
        }
        "toUTC" => dt_val(dt.set_zone(Zone::utc())),
        "toLocal" => dt_val(dt.set_zone(ctx.zone())),
        "setZone" => {
            let zone_name = arg(args, 0).to_str();
            match Zone::parse(&zone_name) {
                Some(z) => dt_val(dt.set_zone(z)),
                None => dt_val(DateTime::invalid(
                    format!("the zone \"{}\" is not supported", &*zone_name),
                    dt.zone,
                )),
            }
        }
        "setLocale" | "reconfigure" | "toDateTime" => Val::DateTime(dt.clone()),
        "set" => {
            let mut p = dt.parts();
            for (k, v) in arg(args, 0).entries().unwrap_or_default() {
                let n = v.to_number() as i64;
                match &*k {
                    "year" | "years" => p.year = n as i32,
                    "month" | "months" => p.month = n as u32,
                    "day" | "days" => p.day = n as u32,
                    "hour" | "hours" => p.hour = n as u32,
                    "minute" | "minutes" => p.minute = n as u32,
                    "second" | "seconds" => p.second = n as u32,
                    "millisecond" | "milliseconds" => p.millisecond = n as u32,
                    other => return Err(ExprError::eval(format!("Invalid unit {other}"))),
                }
            }
            dt_val(DateTime::from_parts(p, dt.zone))
        }
        "plus" => dt_val(shift(dt, args, 1.0)?),
        "minus" => dt_val(shift(dt, args, -1.0)?),
        "startOf" | "beginningOf" => dt_val(dt.start_of(unit_arg(&arg(args, 0))?)),
        "endOf" => dt_val(dt.end_of(unit_arg(&arg(args, 0))?)),
        "endOfMonth" => dt_val(dt.end_of(Unit::Month)),
        "diff" => diff_val(dt, &other(0)?, &arg(args, 1), true)?,
        "diffNow" => diff_val(dt, &now(), &arg(args, 0), true)?,
        "diffTo" => diff_val(&other(0)?, dt, &arg(args, 1), false)?,
        "diffToNow" => diff_val(&now(), dt, &arg(args, 0), false)?,
        "hasSame" => {
            let o = other(0)?.set_zone(dt.zone);
            let unit = unit_arg(&arg(args, 1))?;
            Val::Bool(dt.start_of(unit).millis() == o.start_of(unit).millis())
        }
        "equals" => {
            let o = other(0)?;
            Val::Bool(o.millis() == dt.millis() && o.zone == dt.zone)
        }
        "isBetween" => {
            let (a, b) = (other(0)?.millis(), other(1)?.millis());
            let (lo, hi) = (a.min(b), a.max(b));
            Val::Bool(dt.millis() > lo && dt.millis() < hi)
        }
        "isInLast" => {
            let n = match arg(args, 0) {
                Val::Undefined => 1.0,
                v => v.to_number(),
            };
            let unit = match arg(args, 1) {
                Val::Undefined => Unit::Minute,
                u => unit_arg(&u)?,
            };
            let now = now();
            let since = now.plus(-n, unit);
            Val::Bool(dt.millis() >= since.millis() && dt.millis() <= now.millis())
        }
        "isWeekend" => Val::Bool(dt.weekday() >= 6),
        "isDst" | "isInDST" => Val::Bool(is_dst(dt)),
        "extract" => {
            let unit = match arg(args, 0) {
                Val::Undefined => JsStr::Borrowed("week"),
                v => v.to_str(),
            };
            let key = match &*unit {
                "week" | "weeks" | "weekNumber" => "weekNumber",
                "year" | "years" => "year",
                "month" | "months" => "month",
                "day" | "days" => "day",
                "hour" | "hours" => "hour",
                "minute" | "minutes" => "minute",
                "second" | "seconds" => "second",
                "millisecond" | "milliseconds" => "millisecond",
                "weekday" => "weekday",
                "quarter" => "quarter",
                "ordinal" | "dayOfYear" => "ordinal",
                other => return Err(ExprError::eval(format!("extract(): invalid unit {other}"))),
            };
            datetime_property(dt, key)
        }
        "get" => datetime_property(dt, &arg(args, 0).to_str()),
        "toRelative" => str_val(relative(dt, &now())),
        "isEmpty" => Val::Bool(false),
        "isNotEmpty" => Val::Bool(true),
        _ => return Ok(None),
    }))
}

/// `Date.prototype` methods; n8n's date extensions also apply to `Date`s.
pub fn call_js_date<'a>(
    ctx: &mut Ctx<'a>,
    ms: f64,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    if !ms.is_finite() {
        return Ok(Some(match name {
            "getTime" | "valueOf" => Val::Num(f64::NAN),
            "toISOString" => return Err(ExprError::eval("Invalid time value")),
            "toJSON" => Val::Null,
            _ => str_val("Invalid Date"),
        }));
    }
    let local = DateTime::from_millis(ms as i64, ctx.zone());
    let utc = DateTime::from_millis(ms as i64, Zone::utc());
    let getter = |dt: &DateTime, what: &str| -> f64 {
        let p = dt.parts();
        match what {
            "FullYear" => f64::from(p.year),
            "Month" => f64::from(p.month - 1),
            "Date" => f64::from(p.day),
            "Day" => f64::from(dt.weekday() % 7),
            "Hours" => f64::from(p.hour),
            "Minutes" => f64::from(p.minute),
            "Seconds" => f64::from(p.second),
            _ => f64::from(p.millisecond),
        }
    };
    Ok(Some(match name {
        "getTime" | "valueOf" => Val::Num(ms),
        "toISOString" | "toJSON" => str_val(luxon::js_date_to_iso(ms).unwrap_or_default()),
        "toString" => str_val(luxon::js_date_to_string(ms)),
        "toDateString" => str_val(utc.to_format("EEE MMM dd yyyy")),
        "toUTCString" | "toGMTString" => str_val(utc.to_format("EEE, dd MMM yyyy HH:mm:ss 'GMT'")),
        "toLocaleDateString" => str_val(local.to_format("M/d/yyyy")),
        "toLocaleTimeString" => str_val(local.to_format("h:mm:ss a")),
        "toLocaleString" => str_val(local.to_format("M/d/yyyy, h:mm:ss a")),
        "getTimezoneOffset" => Val::Num(-f64::from(local.offset_minutes())),
        n if n.starts_with("getUTC") => Val::Num(getter(&utc, &n[6..])),
        n if n.starts_with("get")
            && matches!(
                &n[3..],
                "FullYear"
                    | "Month"
                    | "Date"
                    | "Day"
                    | "Hours"
                    | "Minutes"
                    | "Seconds"
                    | "Milliseconds"
            ) =>
        {
            Val::Num(getter(&local, &n[3..]))
        }
        _ => return call_datetime(ctx, &Rc::new(local), name, args),
    }))
}
