//! Object methods: JavaScript's (`hasOwnProperty`, `toString`) and n8n's object extensions
//! (`isEmpty`, `hasField`, `removeField`, `compact`, `urlEncode`, `keys`, `merge`, ...).

use super::arg;
use crate::eval::Ctx;
use crate::value::*;
use crate::ExprError;

/// `JSON.stringify(v)` without indentation (`toJsonString()`); callers handle a top-level
/// `undefined`, which `JSON.stringify` returns as `undefined`.
pub fn to_json_string(v: &Val) -> String {
    match v {
        Val::JsonObj(o) => serde_json::to_string(o),
        Val::JsonArr(a) => serde_json::to_string(a),
        other => serde_json::to_string(&other.to_json()),
    }
    .unwrap_or_default()
}

/// n8n's notion of an empty value (`$ifEmpty`, `isEmpty`): `undefined`, `null`, `''`, `[]`, `{}`.
pub fn is_empty_value(v: &Val) -> bool {
    match v {
        Val::Undefined | Val::Null => true,
        Val::Str(s) => s.is_empty(),
        Val::JsonArr(a) => a.is_empty(),
        Val::Arr(a) => a.borrow().is_empty(),
        Val::JsonObj(o) => o.is_empty(),
        Val::Obj(o) => o.borrow().0.is_empty(),
        _ => false,
    }
}

/// `application/x-www-form-urlencoded` encoding of one component.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b if b.is_ascii_alphanumeric() => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn call<'a>(
    _ctx: &mut Ctx<'a>,
    recv: &Val<'a>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let entries = || recv.entries().unwrap_or_default();
    let filtered = |keep: &dyn Fn(&Val<'a>) -> bool| {
        new_obj(Obj(entries()
            .into_iter()
            .filter(|(_, v)| keep(v))
            .collect()))
    };
    Ok(Some(match name {
        "hasOwnProperty" | "hasField" => Val::Bool(recv.own(&arg(args, 0).to_str()).is_some()),
        "toString" => str_val("[object Object]"),
        "valueOf" => recv.clone(),
        "isEmpty" => Val::Bool(entries().is_empty()),
        "isNotEmpty" => Val::Bool(!entries().is_empty()),
        "keys" => new_arr(entries().into_iter().map(|(k, _)| Val::Str(k)).collect()),
        "values" => new_arr(entries().into_iter().map(|(_, v)| v).collect()),
        "removeField" => {
            let key = arg(args, 0).to_str();
            let mut obj = Obj(entries());
            obj.remove(&key);
            new_obj(obj)
        }
        "removeFieldsContaining" | "keepFieldsContaining" => {
            let needle = arg(args, 0).to_str();
            let keep = name == "keepFieldsContaining";
            filtered(&|v| match v {
                Val::Str(s) => s.contains(&*needle) == keep,
                _ => !keep,
            })
        }
        "compact" => filtered(&|v| !v.is_nullish() && !matches!(v, Val::Str(s) if s.is_empty())),
        "merge" => {
            let mut obj = Obj(arg(args, 0).entries().unwrap_or_default());
            for (k, v) in entries() {
                obj.set(k, v);
            }
            new_obj(obj)
        }
        "urlEncode" => str_val(
            entries()
                .iter()
                .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(&v.to_str())))
                .collect::<Vec<_>>()
                .join("&"),
        ),
        "toJsonString" => str_val(to_json_string(recv)),
        _ => return Ok(None),
    }))
}
