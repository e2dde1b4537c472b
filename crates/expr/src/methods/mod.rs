//! Property reads and method calls, dispatched on the receiver's type.
//!
//! Each submodule implements one receiver type: the native JavaScript methods first, then n8n's
//! extension methods (native wins where both exist). A method that no module knows is an error
//! naming the method and the receiver type.

mod array;
mod date;
mod number;
mod object;
mod string;

pub use date::datetime_from_value;
pub use number::js_round;
pub use object::{is_empty_value, to_json_string};
pub use string::{uri_decode, uri_encode};

use crate::eval::Ctx;
use crate::value::*;
use crate::{globals, vars, ExprError};

/// The `i`th argument, `undefined` when absent.
pub fn arg<'a>(args: &[Val<'a>], i: usize) -> Val<'a> {
    args.get(i).cloned().unwrap_or(Val::Undefined)
}

/// The `i`th argument as an integer (ToIntegerOrInfinity), or `default` when absent/undefined.
pub fn int_arg(args: &[Val], i: usize, default: f64) -> f64 {
    match args.get(i) {
        None | Some(Val::Undefined) => default,
        Some(v) => {
            let n = v.to_number();
            if n.is_nan() {
                0.0
            } else {
                n.trunc()
            }
        }
    }
}

/// Resolves a relative index (negative counts from the end) into `0..=len`.
pub fn rel_index(n: f64, len: usize) -> usize {
    if n < 0.0 {
        (len as f64 + n).max(0.0) as usize
    } else {
        n.min(len as f64) as usize
    }
}

/// A type name for error messages.
pub fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Undefined => "undefined",
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Num(_) => "number",
        Val::Str(_) => "string",
        Val::JsonArr(_) | Val::Arr(_) => "array",
        Val::Date(_) => "Date",
        Val::DateTime(_) => "DateTime",
        Val::Regex(_) => "RegExp",
        Val::Func(_) => "function",
        _ => "object",
    }
}

/// `obj.key`.
pub fn property<'a>(ctx: &mut Ctx<'a>, obj: &Val<'a>, key: &str) -> Result<Val<'a>, ExprError> {
    if ctx.code.is_some() && !crate::code::is_script_property(obj, key) {
        return Err(ExprError::eval(format!(
            "reading '{key}' of {} in a Code script",
            type_name(obj)
        )));
    }
    Ok(match obj {
        Val::JsonObj(o) => o.get(key).map_or(Val::Undefined, Val::from_json),
        Val::Obj(o) => o.borrow().get(key).cloned().unwrap_or(Val::Undefined),
        Val::JsonArr(_) | Val::Arr(_) => array::property(obj, key),
        Val::Str(s) => string::property(s, key),
        Val::Item(_) => obj.own(key).unwrap_or(Val::Undefined),
        Val::DateTime(dt) => date::datetime_property(dt, key),
        Val::Regex(r) => match key {
            "source" => str_val(r.source.as_str()),
            "flags" => str_val(r.flags.as_str()),
            "global" => Val::Bool(r.global),
            "ignoreCase" => Val::Bool(r.flags.contains('i')),
            "multiline" => Val::Bool(r.flags.contains('m')),
            _ => Val::Undefined,
        },
        Val::Global(g) => globals::property(ctx, *g, key)?,
        Val::NodeRef(name) => vars::node_ref_property(ctx, name, key)?,
        Val::LegacyNode(name) => vars::legacy_node_property(ctx, name, key)?,
        Val::Undefined | Val::Null => return Err(ctx.read_of_nullish(obj, key)),
        Val::Bool(_) | Val::Num(_) | Val::Date(_) | Val::Func(_) => Val::Undefined,
    })
}

/// `recv.name(...args)`.
pub fn call_method<'a>(
    ctx: &mut Ctx<'a>,
    recv: Val<'a>,
    name: &str,
    args: Vec<Val<'a>>,
) -> Result<Val<'a>, ExprError> {
    if ctx.code.is_some() && !crate::code::is_script_method(&recv, name) {
        return Err(ExprError::eval(format!(
            "{name}() of {} in a Code script",
            type_name(&recv)
        )));
    }
    let found = match &recv {
        // A TypeError in n8n's sandbox: the call yields undefined. The emptiness checks are
        // defined for missing values.
        Val::Undefined | Val::Null => match name {
            "isEmpty" => Some(Val::Bool(true)),
            "isNotEmpty" => Some(Val::Bool(false)),
            _ => Some(Val::Undefined),
        },
        Val::Str(s) => string::call(ctx, s, name, &args)?,
        Val::Num(n) => number::call(ctx, *n, name, &args)?,
        Val::Bool(b) => number::call_bool(ctx, *b, name, &args)?,
        Val::JsonArr(_) | Val::Arr(_) => array::call(ctx, &recv, name, &args)?,
        Val::JsonObj(_) | Val::Obj(_) | Val::Item(_) => match recv.own(name) {
            Some(f @ Val::Func(_)) => Some(ctx.call_value(&f, args.clone())?),
            _ => object::call(ctx, &recv, name, &args)?,
        },
        Val::Date(ms) => date::call_js_date(ctx, *ms, name, &args)?,
        Val::DateTime(dt) => date::call_datetime(ctx, dt, name, &args)?,
        Val::Regex(r) => string::call_regex(r, name, &args)?,
        Val::Global(g) => globals::call_static(ctx, *g, name, &args)?,
        Val::NodeRef(node) => vars::node_ref_method(ctx, node, name, &args)?,
        Val::LegacyNode(_) => None,
        Val::Func(f) => match name {
            "call" => Some(ctx.call_value(
                &Val::Func(f.clone()),
                args.get(1..).unwrap_or_default().to_vec(),
            )?),
            "apply" => {
                let list = arg(&args, 1).list().unwrap_or_default();
                Some(ctx.call_value(&Val::Func(f.clone()), list)?)
            }
            _ => None,
        },
    };
    found.ok_or_else(|| ExprError::Eval {
        message: format!("{name} is not a function"),
        description: Some(format!(
            "There is no method '{name}()' on a value of type {}",
            type_name(&recv)
        )),
    })
}
