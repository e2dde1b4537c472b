//! JavaScript globals (`Math`, `JSON`, `Object`, `Array`, `Number`, `String`, `Date`, luxon's
//! `DateTime`, `parseInt`, ...) and n8n's global helper functions (`$ifEmpty`, `$min`, ...).
//! n8n's data variables are delegated to [`crate::vars`].

use crate::ast::Global;
use crate::eval::Ctx;
use crate::jsregex::JsRegex;
use crate::luxon::{self, DateTime, Parts, Zone};
use crate::methods::{
    arg, int_arg, is_empty_value, js_round, to_json_string, uri_decode, uri_encode,
};
use crate::numfmt::{parse_float, parse_int};
use crate::value::*;
use crate::{jmespath, vars, ExprError};
use base64::Engine;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

/// A pseudo-random number in `[0, 1)` (`Math.random`, `randomItem`), xorshift seeded per thread.
pub fn random() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            h.finish() | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Value of a global identifier.
pub fn value<'a>(ctx: &mut Ctx<'a>, g: Global) -> Result<Val<'a>, ExprError> {
    Ok(match g {
        Global::Undefined => Val::Undefined,
        Global::NaN => Val::Num(f64::NAN),
        Global::Infinity => Val::Num(f64::INFINITY),
        other => vars::value(ctx, other)?,
    })
}

/// Static properties: `Math.PI`, `Number.MAX_SAFE_INTEGER`, `$input.item`, `$env.X`, ...
pub fn property<'a>(ctx: &mut Ctx<'a>, g: Global, key: &str) -> Result<Val<'a>, ExprError> {
    Ok(match (g, key) {
        (Global::Math, k) => Val::Num(match k {
            "PI" => std::f64::consts::PI,
            "E" => std::f64::consts::E,
            "LN2" => std::f64::consts::LN_2,
            "LN10" => std::f64::consts::LN_10,
            "LOG2E" => std::f64::consts::LOG2_E,
            "LOG10E" => std::f64::consts::LOG10_E,
            "SQRT2" => std::f64::consts::SQRT_2,
            "SQRT1_2" => std::f64::consts::FRAC_1_SQRT_2,
            _ => return Ok(Val::Undefined),
        }),
        (Global::Number, k) => Val::Num(match k {
            "MAX_SAFE_INTEGER" => 9_007_199_254_740_991.0,
            "MIN_SAFE_INTEGER" => -9_007_199_254_740_991.0,
            "MAX_VALUE" => f64::MAX,
            "MIN_VALUE" => 5e-324,
            "EPSILON" => f64::EPSILON,
            "POSITIVE_INFINITY" => f64::INFINITY,
            "NEGATIVE_INFINITY" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            _ => return Ok(Val::Undefined),
        }),
        (Global::Input | Global::Env | Global::Node, k) => vars::namespace_property(ctx, g, k)?,
        _ => Val::Undefined,
    })
}

fn math<'a>(name: &str, args: &[Val<'a>]) -> Option<Val<'a>> {
    let x = arg(args, 0).to_number();
    let y = arg(args, 1).to_number();
    Some(Val::Num(match name {
        "abs" => x.abs(),
        "ceil" => x.ceil(),
        "floor" => x.floor(),
        "round" => js_round(x),
        "trunc" => x.trunc(),
        "sign" => {
            if x.is_nan() || x == 0.0 {
                x
            } else {
                x.signum()
            }
        }
        "sqrt" => x.sqrt(),
        "cbrt" => x.cbrt(),
        "exp" => x.exp(),
        "expm1" => x.exp_m1(),
        "log" => x.ln(),
        "log10" => x.log10(),
        "log2" => x.log2(),
        "log1p" => x.ln_1p(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "asin" => x.asin(),
        "acos" => x.acos(),
        "atan" => x.atan(),
        "sinh" => x.sinh(),
        "cosh" => x.cosh(),
        "tanh" => x.tanh(),
        "atan2" => x.atan2(y),
        "pow" => crate::eval::js_pow(x, y),
        "random" => random(),
        "fround" => f64::from(x as f32),
        "hypot" => args
            .iter()
            .map(|v| v.to_number().powi(2))
            .sum::<f64>()
            .sqrt(),
        "max" => min_max(args, true),
        "min" => min_max(args, false),
        _ => return None,
    }))
}

fn min_max(args: &[Val], max: bool) -> f64 {
    let mut acc = if max {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    for v in args {
        let n = v.to_number();
        if n.is_nan() {
            return f64::NAN;
        }
        acc = if max { acc.max(n) } else { acc.min(n) };
    }
    acc
}

/// `JSON.stringify(value, replacer, indent)`.
fn json_stringify<'a>(args: &[Val<'a>]) -> Val<'a> {
    let v = arg(args, 0);
    if matches!(v, Val::Undefined | Val::Func(_)) {
        return Val::Undefined;
    }
    let indent = match arg(args, 2) {
        Val::Num(n) => " ".repeat(n.clamp(0.0, 10.0) as usize),
        Val::Str(s) => s.chars().take(10).collect(),
        _ => String::new(),
    };
    if indent.is_empty() {
        return str_val(to_json_string(&v));
    }
    let json = v.to_json();
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&json, &mut ser).expect("serialize JSON");
    str_val(String::from_utf8(out).expect("JsonNs is UTF-8"))
}

/// luxon options `{zone, setZone}` (argument `i`).
fn zone_opts(ctx: &Ctx, args: &[Val], i: usize) -> (Zone, bool) {
    let opts = arg(args, i);
    let zone = opts
        .own("zone")
        .and_then(|z| Zone::parse(&z.to_str()))
        .unwrap_or_else(|| ctx.zone());
    let set_zone = opts.own("setZone").is_some_and(|v| v.truthy());
    (zone, set_zone)
}

/// Date parts from positional numbers (`DateTime.local(y, m, d, ...)`, `new Date(y, m0, ...)`).
fn positional_parts(args: &[Val], month_base: u32) -> Parts {
    let n = |i: usize, d: f64| int_arg(args, i, d);
    Parts {
        year: n(0, 1970.0) as i32,
        month: (n(1, f64::from(month_base)) as i64 + 1 - i64::from(month_base)) as u32,
        day: n(2, 1.0) as u32,
        hour: n(3, 0.0) as u32,
        minute: n(4, 0.0) as u32,
        second: n(5, 0.0) as u32,
        millisecond: n(6, 0.0) as u32,
    }
}

fn datetime_static<'a>(
    ctx: &mut Ctx<'a>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let now = || DateTime::from_chrono(&ctx.now(), ctx.zone());
    let text = || arg(args, 0).to_str();
    let dt = match name {
        "now" => now(),
        "local" | "utc" => {
            let zone = if name == "utc" {
                Zone::utc()
            } else {
                ctx.zone()
            };
            if args.is_empty() {
                now().set_zone(zone)
            } else {
                DateTime::from_parts(positional_parts(args, 1), zone)
            }
        }
        "fromISO" => {
            let (zone, set_zone) = zone_opts(ctx, args, 1);
            luxon::from_iso(&text(), zone, set_zone)
        }
        "fromSQL" => luxon::from_sql(&text(), zone_opts(ctx, args, 1).0),
        "fromRFC2822" | "fromHTTP" => luxon::from_rfc2822(&text(), zone_opts(ctx, args, 1).0),
        "fromFormat" => {
            luxon::from_format(&text(), &arg(args, 1).to_str(), zone_opts(ctx, args, 2).0)
        }
        "fromMillis" => {
            DateTime::from_millis(arg(args, 0).to_number() as i64, zone_opts(ctx, args, 1).0)
        }
        "fromSeconds" => DateTime::from_millis(
            (arg(args, 0).to_number() * 1000.0) as i64,
            zone_opts(ctx, args, 1).0,
        ),
        "fromJSDate" => match arg(args, 0) {
            Val::Date(ms) if ms.is_finite() => {
                DateTime::from_millis(ms as i64, zone_opts(ctx, args, 1).0)
            }
            _ => DateTime::invalid("invalid input", ctx.zone()),
        },
        "fromObject" => {
            let (zone, _) = zone_opts(ctx, args, 1);
            let obj = arg(args, 0);
            let get = |k: &str, d: f64| obj.own(k).map_or(d, |v| v.to_number());
            let base = now().set_zone(zone).parts();
            let has_date =
                obj.own("year").is_some() || obj.own("month").is_some() || obj.own("day").is_some();
            DateTime::from_parts(
                Parts {
                    year: get("year", f64::from(base.year)) as i32,
                    month: get("month", if has_date { 1.0 } else { f64::from(base.month) }) as u32,
                    day: get("day", if has_date { 1.0 } else { f64::from(base.day) }) as u32,
                    hour: get("hour", 0.0) as u32,
                    minute: get("minute", 0.0) as u32,
                    second: get("second", 0.0) as u32,
                    millisecond: get("millisecond", 0.0) as u32,
                },
                zone,
            )
        }
        "isDateTime" => return Ok(Some(Val::Bool(matches!(arg(args, 0), Val::DateTime(_))))),
        "max" | "min" => {
            let mut best: Option<Rc<DateTime>> = None;
            for a in args {
                if let Val::DateTime(d) = a {
                    let better = best.as_ref().is_none_or(|b| {
                        (name == "max" && d.millis() > b.millis())
                            || (name == "min" && d.millis() < b.millis())
                    });
                    if better {
                        best = Some(d.clone());
                    }
                }
            }
            return Ok(Some(best.map_or(Val::Undefined, Val::DateTime)));
        }
        _ => return Ok(None),
    };
    Ok(Some(Val::DateTime(Rc::new(dt))))
}

/// `Namespace.name(args)`: static methods of JS globals and `$input`.
pub fn call_static<'a>(
    ctx: &mut Ctx<'a>,
    g: Global,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let a0 = arg(args, 0);
    Ok(match g {
        Global::Math => math(name, args),
        Global::Input => match crate::code::input(ctx, name, true) {
            Some(found) => Some(found?),
            None => vars::input_method(ctx, name),
        },
        Global::Console => crate::code::console(ctx, name, args),
        Global::JsonNs => match name {
            "stringify" => Some(json_stringify(args)),
            "parse" => {
                let text = a0.to_str();
                let v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| ExprError::Eval {
                        message: format!("JSON.parse: {e}"),
                        description: Some(format!("Could not parse `{}` as JSON", &*text)),
                    })?;
                Some(Val::from_owned_json(v))
            }
            _ => None,
        },
        Global::Object => match name {
            "keys" | "values" | "entries" => {
                let entries: Vec<(JsStr, Val)> = match a0.list() {
                    Some(l) => l
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (JsStr::from(i.to_string()), v))
                        .collect(),
                    None => a0.entries().unwrap_or_default(),
                };
                Some(new_arr(
                    entries
                        .into_iter()
                        .map(|(k, v)| match name {
                            "keys" => Val::Str(k),
                            "values" => v,
                            _ => new_arr(vec![Val::Str(k), v]),
                        })
                        .collect(),
                ))
            }
            "assign" => {
                if matches!(a0, Val::JsonObj(_) | Val::JsonArr(_) | Val::Item(_)) {
                    return Err(ctx.write_to_item_data());
                }
                let mut merged = Obj(a0.entries().unwrap_or_default());
                for src in &args[1.min(args.len())..] {
                    for (k, v) in src.entries().unwrap_or_default() {
                        merged.set(k, v);
                    }
                }
                Some(match &a0 {
                    Val::Obj(o) => {
                        *o.borrow_mut() = merged;
                        a0.clone()
                    }
                    _ => new_obj(merged),
                })
            }
            "fromEntries" => {
                let mut obj = Obj::default();
                for pair in a0.list().unwrap_or_default() {
                    let kv = pair.list().unwrap_or_default();
                    obj.set(arg(&kv, 0).to_str(), arg(&kv, 1));
                }
                Some(new_obj(obj))
            }
            "freeze" | "seal" => Some(a0),
            "hasOwn" => Some(Val::Bool(a0.own(&arg(args, 1).to_str()).is_some())),
            _ => None,
        },
        Global::Array => match name {
            "isArray" => Some(Val::Bool(a0.is_array())),
            "of" => Some(new_arr(args.to_vec())),
            "from" => {
                let items = match &a0 {
                    Val::Str(s) => s.chars().map(|c| str_val(c.to_string())).collect(),
                    v => match v.list() {
                        Some(list) => list,
                        None => {
                            let n = v.own("length").map_or(0.0, |l| l.to_number());
                            ctx.check_length(n)?;
                            vec![Val::Undefined; n.max(0.0) as usize]
                        }
                    },
                };
                let f = arg(args, 1);
                let items = if matches!(f, Val::Undefined) {
                    items
                } else {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, v) in items.into_iter().enumerate() {
                        out.push(ctx.call_value(&f, vec![v, Val::Num(i as f64)])?);
                    }
                    out
                };
                Some(new_arr(items))
            }
            _ => None,
        },
        Global::Number => match name {
            "isInteger" => Some(Val::Bool(
                matches!(a0, Val::Num(n) if n.is_finite() && n.fract() == 0.0),
            )),
            "isSafeInteger" => Some(Val::Bool(
                matches!(a0, Val::Num(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0),
            )),
            "isFinite" => Some(Val::Bool(matches!(a0, Val::Num(n) if n.is_finite()))),
            "isNaN" => Some(Val::Bool(matches!(a0, Val::Num(n) if n.is_nan()))),
            "parseFloat" => Some(Val::Num(parse_float(&a0.to_str()))),
            "parseInt" => call_function(ctx, Global::ParseInt, args.to_vec()).map(Some)?,
            _ => None,
        },
        Global::String => match name {
            "fromCharCode" => {
                let units: Vec<u16> = args.iter().map(|v| v.to_number() as u32 as u16).collect();
                Some(str_val(String::from_utf16_lossy(&units)))
            }
            "fromCodePoint" => Some(str_val(
                args.iter()
                    .filter_map(|v| char::from_u32(v.to_number() as u32))
                    .collect::<String>(),
            )),
            _ => None,
        },
        Global::Date => match name {
            "now" => Some(Val::Num(ctx.now().timestamp_millis() as f64)),
            "parse" => Some(Val::Num(
                luxon::parse_js_date(&a0.to_str(), ctx.zone()).map_or(f64::NAN, |ms| ms as f64),
            )),
            "UTC" => {
                let dt = DateTime::from_parts(positional_parts(args, 0), Zone::utc());
                Some(Val::Num(if dt.is_valid() {
                    dt.millis() as f64
                } else {
                    f64::NAN
                }))
            }
            _ => None,
        },
        Global::DateTime => datetime_static(ctx, name, args)?,
        Global::Duration => match name {
            "fromObject" => Some(a0),
            "fromMillis" => Some(obj_from([("milliseconds", Val::Num(a0.to_number()))])),
            _ => None,
        },
        _ => None,
    })
}

/// Calling a global function: `parseInt(x)`, `$('Node')`, `$ifEmpty(a, b)`, `String(x)`, ...
pub fn call_function<'a>(
    ctx: &mut Ctx<'a>,
    g: Global,
    args: Vec<Val<'a>>,
) -> Result<Val<'a>, ExprError> {
    let a0 = arg(&args, 0);
    Ok(match g {
        Global::Dollar => vars::node_ref(ctx, &args)?,
        Global::Items => vars::items(ctx, &args)?,
        Global::If => {
            if a0.truthy() {
                arg(&args, 1)
            } else {
                arg(&args, 2)
            }
        }
        Global::IfEmpty => {
            if is_empty_value(&a0) {
                arg(&args, 1)
            } else {
                a0
            }
        }
        Global::Min | Global::Max => Val::Num(min_max(&args, g == Global::Max)),
        Global::Average => {
            if args.is_empty() {
                Val::Num(f64::NAN)
            } else {
                Val::Num(args.iter().map(Val::to_number).sum::<f64>() / args.len() as f64)
            }
        }
        Global::Not => Val::Bool(!a0.truthy()),
        Global::Jmespath => {
            let path = arg(&args, 1).to_str();
            Val::from_owned_json(jmespath::search(&a0.to_json(), &path)?)
        }
        Global::Number => Val::Num(if args.is_empty() { 0.0 } else { a0.to_number() }),
        Global::String => match a0 {
            _ if args.is_empty() => str_val(""),
            v => Val::Str(v.to_primitive(true).to_str()),
        },
        Global::Boolean => Val::Bool(a0.truthy()),
        Global::Object => match a0 {
            Val::Undefined | Val::Null => new_obj(Obj::default()),
            v => v,
        },
        Global::Array => construct(ctx, g, args)?,
        Global::ParseInt => {
            let radix = match arg(&args, 1) {
                Val::Undefined => None,
                r => Some(r.to_number() as u32),
            };
            Val::Num(parse_int(&a0.to_str(), radix))
        }
        Global::ParseFloat => Val::Num(parse_float(&a0.to_str())),
        Global::IsNaN => Val::Bool(a0.to_number().is_nan()),
        Global::IsFinite => Val::Bool(a0.to_number().is_finite()),
        Global::EncodeURIComponent => str_val(uri_encode(&a0.to_str(), false)),
        Global::EncodeURI => str_val(uri_encode(&a0.to_str(), true)),
        Global::DecodeURIComponent => str_val(uri_decode(&a0.to_str(), false)?),
        Global::DecodeURI => str_val(uri_decode(&a0.to_str(), true)?),
        Global::Btoa => {
            let s = a0.to_str();
            if s.chars().any(|c| c as u32 > 255) {
                return Err(ExprError::eval(
                    "btoa(): the string contains characters outside of the Latin1 range",
                ));
            }
            let bytes: Vec<u8> = s.chars().map(|c| c as u8).collect();
            str_val(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Global::Atob => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a0.to_str().trim())
                .map_err(|e| ExprError::eval(format!("atob(): invalid base64: {e}")))?;
            str_val(bytes.into_iter().map(char::from).collect::<String>())
        }
        // `Date()` prints the process's local time in JavaScript.
        Global::Date if ctx.code.is_some() => {
            return Err(ExprError::eval("Date() in a Code script"))
        }
        Global::Date => str_val(luxon::js_date_to_string(ctx.now().timestamp_millis() as f64)),
        Global::RegExp => construct(ctx, g, args)?,
        other => {
            return Err(ExprError::eval(format!(
                "{} is not a function",
                other.name()
            )));
        }
    })
}

/// `new X(args)`.
pub fn construct<'a>(
    ctx: &mut Ctx<'a>,
    g: Global,
    args: Vec<Val<'a>>,
) -> Result<Val<'a>, ExprError> {
    let a0 = arg(&args, 0);
    Ok(match g {
        // Text and positional parts are read in the process's local time zone in JavaScript.
        Global::Date if ctx.code.is_some() && (args.len() > 1 || matches!(a0, Val::Str(_))) => {
            return Err(ExprError::eval("new Date() of local time in a Code script"))
        }
        Global::Date => Val::Date(match (&a0, args.len()) {
            (_, 0) => ctx.now().timestamp_millis() as f64,
            (Val::Num(n), 1) => *n,
            (Val::Date(ms), 1) => *ms,
            (Val::DateTime(dt), 1) => dt.millis() as f64,
            (Val::Str(s), 1) => {
                luxon::parse_js_date(s, ctx.zone()).map_or(f64::NAN, |ms| ms as f64)
            }
            (_, 1) => a0.to_number(),
            _ => {
                let dt = DateTime::from_parts(positional_parts(&args, 0), ctx.zone());
                if dt.is_valid() {
                    dt.millis() as f64
                } else {
                    f64::NAN
                }
            }
        }),
        Global::RegExp => {
            let (source, flags) = match &a0 {
                Val::Regex(r) => (r.source.clone(), r.flags.clone()),
                other => (other.to_str().to_string(), String::new()),
            };
            let flags = match arg(&args, 1) {
                Val::Undefined => flags,
                f => f.to_str().to_string(),
            };
            let re = JsRegex::new(&source, &flags).map_err(|e| match e {
                ExprError::Syntax(m) => ExprError::eval(m),
                other => other,
            })?;
            Val::Regex(Arc::new(re))
        }
        Global::Array => match (&a0, args.len()) {
            (Val::Num(n), 1) => {
                ctx.check_length(*n)?;
                new_arr(vec![Val::Undefined; n.max(0.0) as usize])
            }
            _ => new_arr(args),
        },
        Global::Object => call_function(ctx, g, args)?,
        Global::Number | Global::String | Global::Boolean => call_function(ctx, g, args)?,
        Global::DateTime => Val::DateTime(Rc::new(DateTime::from_chrono(&ctx.now(), ctx.zone()))),
        other => {
            return Err(ExprError::eval(format!(
                "{} is not a constructor",
                other.name()
            )))
        }
    })
}
