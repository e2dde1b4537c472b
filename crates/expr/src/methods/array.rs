//! Array properties and methods: JavaScript's (`map`, `filter`, `reduce`, `sort`, ...) and n8n's
//! array extensions (`pluck`, `unique`, `sum`, `chunk`, `smartJoin`, ...).
//!
//! Arrays read from item data are copied shallowly (element references) before a method runs;
//! mutating methods (`push`, `sort`, ...) change arrays created by the expression in place.

use super::{arg, int_arg, rel_index, to_json_string, type_name};
use crate::eval::Ctx;
use crate::value::*;
use crate::{globals, ExprError};
use serde_json::Value;
use std::cmp::Ordering;

pub fn property<'a>(arr: &Val<'a>, key: &str) -> Val<'a> {
    let len = match arr {
        Val::JsonArr(a) => a.len(),
        Val::Arr(a) => a.borrow().len(),
        _ => 0,
    };
    if key == "length" {
        return Val::Num(len as f64);
    }
    match key.parse::<usize>() {
        Ok(i) => match arr {
            Val::JsonArr(a) => a.get(i).map_or(Val::Undefined, Val::from_json),
            Val::Arr(a) => a.borrow().get(i).cloned().unwrap_or(Val::Undefined),
            _ => Val::Undefined,
        },
        Err(_) => Val::Undefined,
    }
}

/// Stable merge sort with a JavaScript comparator (or the default string order). Unlike
/// `slice::sort_by`, it tolerates inconsistent comparators and propagates their errors.
fn sort_values<'a>(
    ctx: &mut Ctx<'a>,
    items: Vec<Val<'a>>,
    cmp: Option<&Val<'a>>,
) -> Result<Vec<Val<'a>>, ExprError> {
    // `undefined` always sorts last and is never passed to the comparator.
    let (mut defined, undefined): (Vec<_>, Vec<_>) = items
        .into_iter()
        .partition(|v| !matches!(v, Val::Undefined));
    let mut compare = |a: &Val<'a>, b: &Val<'a>| -> Result<bool, ExprError> {
        Ok(match cmp {
            Some(f) => ctx.call_value(f, vec![a.clone(), b.clone()])?.to_number() > 0.0,
            None => compare_utf16(&a.to_str(), &b.to_str()) == Ordering::Greater,
        })
    };
    let mut width = 1;
    let n = defined.len();
    while width < n {
        let mut merged = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            while i < mid && j < end {
                if compare(&defined[i], &defined[j])? {
                    merged.push(defined[j].clone());
                    j += 1;
                } else {
                    merged.push(defined[i].clone());
                    i += 1;
                }
            }
            merged.extend_from_slice(&defined[i..mid]);
            merged.extend_from_slice(&defined[j..end]);
            start = end;
        }
        defined = merged;
        width *= 2;
    }
    defined.extend(undefined);
    Ok(defined)
}

fn flatten<'a>(items: Vec<Val<'a>>, depth: f64, out: &mut Vec<Val<'a>>) {
    for v in items {
        match v.list() {
            Some(inner) if depth >= 1.0 => flatten(inner, depth - 1.0, out),
            _ => out.push(v),
        }
    }
}

/// Numbers of an array for `sum`/`min`/`max`/`average`; non-numbers are an error.
fn numbers(items: &[Val], name: &str) -> Result<Vec<f64>, ExprError> {
    items
        .iter()
        .map(|v| match v {
            Val::Num(n) => Ok(*n),
            Val::Str(s) if !crate::numfmt::string_to_number(s).is_nan() && !s.trim().is_empty() => {
                Ok(crate::numfmt::string_to_number(s))
            }
            other => Err(ExprError::Eval {
                message: format!("{name}(): all array elements must be numbers"),
                description: Some(format!("Found a {} in the array", type_name(other))),
            }),
        })
        .collect()
}

fn contains_json(haystack: &[Value], v: &Value) -> bool {
    haystack.iter().any(|h| h == v)
}

/// Keeps the first of each group of deep-equal elements (optionally comparing only `keys`).
fn dedupe<'a>(items: Vec<Val<'a>>, keys: &[String]) -> Vec<Val<'a>> {
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for v in items {
        let key = if keys.is_empty() {
            v.to_json()
        } else {
            Value::Array(
                keys.iter()
                    .map(|k| v.own(k).map_or(Value::Null, |x| x.to_json()))
                    .collect(),
            )
        };
        if !contains_json(&seen, &key) {
            seen.push(key);
            out.push(v);
        }
    }
    out
}

/// Merges objects; keys already present win (n8n's `merge` keeps the base values).
fn merge_objects<'a>(base: &Val<'a>, other: &Val<'a>) -> Val<'a> {
    let mut obj = Obj(other.entries().unwrap_or_default());
    for (k, v) in base.entries().unwrap_or_default() {
        obj.set(k, v);
    }
    new_obj(obj)
}

/// Methods that change the array they are called on.
const IN_PLACE: [&str; 8] = [
    "reverse", "sort", "push", "unshift", "pop", "shift", "splice", "fill",
];

pub fn call<'a>(
    ctx: &mut Ctx<'a>,
    recv: &Val<'a>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    match recv {
        Val::Arr(a) if IN_PLACE.contains(&name) => {
            ctx.check_not_walked(a)?;
            if let Some(result) = push_or_pop(a, name, args) {
                return Ok(Some(result));
            }
        }
        Val::Arr(_) => {}
        _ if IN_PLACE.contains(&name) => return Err(ctx.write_to_item_data()),
        _ => {}
    }
    ctx.walking(recv, |ctx| call_on(ctx, recv, name, args))
}

/// `push` and `pop` on an array the code made, in place. The other methods work on a copy of
/// the items (see [`call_on`]), which for these made a loop of pushes quadratic.
fn push_or_pop<'a>(array: &ArrRef<'a>, name: &str, args: &[Val<'a>]) -> Option<Val<'a>> {
    let mut items = array.borrow_mut();
    match name {
        "push" => {
            items.extend(args.iter().cloned());
            Some(Val::Num(items.len() as f64))
        }
        "pop" => Some(items.pop().unwrap_or(Val::Undefined)),
        _ => None,
    }
}

fn call_on<'a>(
    ctx: &mut Ctx<'a>,
    recv: &Val<'a>,
    name: &str,
    args: &[Val<'a>],
) -> Result<Option<Val<'a>>, ExprError> {
    let items = recv.list().expect("array receiver");
    let len = items.len();
    let f = arg(args, 0);
    let callback = |ctx: &mut Ctx<'a>, v: &Val<'a>, i: usize| {
        ctx.call_value(&f, vec![v.clone(), Val::Num(i as f64), recv.clone()])
    };
    // Writes a mutated array back (only arrays the expression created get here, see IN_PLACE).
    let store = |new: Vec<Val<'a>>| -> Val<'a> {
        if let Val::Arr(a) = recv {
            *a.borrow_mut() = new;
        }
        recv.clone()
    };
    Ok(Some(match name {
        "join" => {
            let sep = match arg(args, 0) {
                Val::Undefined => JsStr::Borrowed(","),
                v => v.to_str(),
            };
            str_val(recv.join(&sep))
        }
        "toString" => str_val(recv.join(",")),
        "map" => {
            let mut out = Vec::with_capacity(len);
            for (i, v) in items.iter().enumerate() {
                out.push(callback(ctx, v, i)?);
            }
            new_arr(out)
        }
        "forEach" => {
            for (i, v) in items.iter().enumerate() {
                callback(ctx, v, i)?;
            }
            Val::Undefined
        }
        "filter" => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                if callback(ctx, v, i)?.truthy() {
                    out.push(v.clone());
                }
            }
            new_arr(out)
        }
        "find" | "findIndex" | "findLast" | "findLastIndex" => {
            let reverse = name.starts_with("findLast");
            let order: Box<dyn Iterator<Item = usize>> = if reverse {
                Box::new((0..len).rev())
            } else {
                Box::new(0..len)
            };
            let mut found = None;
            for i in order {
                if callback(ctx, &items[i], i)?.truthy() {
                    found = Some(i);
                    break;
                }
            }
            if name.ends_with("Index") {
                Val::Num(found.map_or(-1.0, |i| i as f64))
            } else {
                found.map_or(Val::Undefined, |i| items[i].clone())
            }
        }
        "some" => {
            let mut any = false;
            for (i, v) in items.iter().enumerate() {
                if callback(ctx, v, i)?.truthy() {
                    any = true;
                    break;
                }
            }
            Val::Bool(any)
        }
        "every" => {
            let mut all = true;
            for (i, v) in items.iter().enumerate() {
                if !callback(ctx, v, i)?.truthy() {
                    all = false;
                    break;
                }
            }
            Val::Bool(all)
        }
        "reduce" | "reduceRight" => {
            let order: Vec<usize> = if name == "reduce" {
                (0..len).collect()
            } else {
                (0..len).rev().collect()
            };
            let mut order = order.into_iter();
            let mut acc = if args.len() >= 2 {
                args[1].clone()
            } else {
                match order.next() {
                    Some(i) => items[i].clone(),
                    None => {
                        return Err(ExprError::eval(
                            "Reduce of empty array with no initial value",
                        ))
                    }
                }
            };
            for i in order {
                acc = ctx.call_value(
                    &f,
                    vec![acc, items[i].clone(), Val::Num(i as f64), recv.clone()],
                )?;
            }
            acc
        }
        "flatMap" => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                let r = callback(ctx, v, i)?;
                match r.list() {
                    Some(inner) => out.extend(inner),
                    None => out.push(r),
                }
            }
            new_arr(out)
        }
        "flat" => {
            let depth = match arg(args, 0) {
                Val::Undefined => 1.0,
                v => v.to_number(),
            };
            let mut out = Vec::new();
            flatten(items, depth, &mut out);
            new_arr(out)
        }
        "includes" => {
            let from = rel_index(int_arg(args, 1, 0.0), len);
            Val::Bool(items[from..].iter().any(|v| v.same_value_zero(&f)))
        }
        "indexOf" => {
            let from = rel_index(int_arg(args, 1, 0.0), len);
            Val::Num(
                items[from..]
                    .iter()
                    .position(|v| v.strict_eq(&f))
                    .map_or(-1.0, |i| (i + from) as f64),
            )
        }
        "lastIndexOf" => Val::Num(
            items
                .iter()
                .rposition(|v| v.strict_eq(&f))
                .map_or(-1.0, |i| i as f64),
        ),
        "slice" => {
            let start = rel_index(int_arg(args, 0, 0.0), len);
            let end = rel_index(int_arg(args, 1, len as f64), len);
            new_arr(items[start..end.max(start)].to_vec())
        }
        "at" => {
            let i = int_arg(args, 0, 0.0);
            let i = if i < 0.0 { len as f64 + i } else { i };
            items
                .get(i as usize)
                .filter(|_| i >= 0.0)
                .cloned()
                .unwrap_or(Val::Undefined)
        }
        "concat" => {
            let mut out = items;
            for a in args {
                match a.list() {
                    Some(l) => out.extend(l),
                    None => out.push(a.clone()),
                }
            }
            new_arr(out)
        }
        "reverse" => {
            let mut out = items;
            out.reverse();
            store(out)
        }
        "toReversed" => {
            let mut out = items;
            out.reverse();
            new_arr(out)
        }
        "sort" => {
            let cmp = args.first().filter(|v| !matches!(v, Val::Undefined));
            let sorted = sort_values(ctx, items, cmp)?;
            store(sorted)
        }
        "toSorted" => {
            let cmp = args.first().filter(|v| !matches!(v, Val::Undefined));
            new_arr(sort_values(ctx, items, cmp)?)
        }
        "unshift" => {
            let mut out = items;
            out.splice(0..0, args.iter().cloned());
            let n = out.len();
            store(out);
            Val::Num(n as f64)
        }
        "shift" => {
            let mut out = items;
            let v = (!out.is_empty()).then(|| out.remove(0));
            store(out);
            v.unwrap_or(Val::Undefined)
        }
        "splice" | "toSpliced" => {
            let start = rel_index(int_arg(args, 0, 0.0), len);
            let count = if args.len() < 2 {
                len - start
            } else {
                (int_arg(args, 1, 0.0).max(0.0) as usize).min(len - start)
            };
            let mut out = items;
            let removed: Vec<Val> = out
                .splice(start..start + count, args.iter().skip(2).cloned())
                .collect();
            if name == "splice" {
                store(out);
                new_arr(removed)
            } else {
                new_arr(out)
            }
        }
        "fill" => {
            let start = rel_index(int_arg(args, 1, 0.0), len);
            let end = rel_index(int_arg(args, 2, len as f64), len);
            let mut out = items;
            for v in out.iter_mut().take(end).skip(start) {
                *v = f.clone();
            }
            store(out)
        }
        "keys" => new_arr((0..len).map(|i| Val::Num(i as f64)).collect()),
        "values" => new_arr(items),
        "entries" => new_arr(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| new_arr(vec![Val::Num(i as f64), v]))
                .collect(),
        ),
        // n8n extensions
        "first" => items.first().cloned().unwrap_or(Val::Undefined),
        "last" => items.last().cloned().unwrap_or(Val::Undefined),
        "isEmpty" => Val::Bool(len == 0),
        "isNotEmpty" => Val::Bool(len > 0),
        "randomItem" => {
            if len == 0 {
                Val::Undefined
            } else {
                items[((globals::random() * len as f64) as usize).min(len - 1)].clone()
            }
        }
        "sum" => Val::Num(numbers(&items, name)?.iter().sum()),
        "average" => {
            let nums = numbers(&items, name)?;
            if nums.is_empty() {
                Val::Num(f64::NAN)
            } else {
                Val::Num(nums.iter().sum::<f64>() / nums.len() as f64)
            }
        }
        "min" => Val::Num(
            numbers(&items, name)?
                .into_iter()
                .fold(f64::INFINITY, |a, b| {
                    if a.is_nan() || b.is_nan() {
                        f64::NAN
                    } else {
                        a.min(b)
                    }
                }),
        ),
        "max" => Val::Num(
            numbers(&items, name)?
                .into_iter()
                .fold(f64::NEG_INFINITY, |a, b| {
                    if a.is_nan() || b.is_nan() {
                        f64::NAN
                    } else {
                        a.max(b)
                    }
                }),
        ),
        "unique" | "removeDuplicates" => {
            let keys: Vec<String> = args
                .iter()
                .flat_map(|a| match a.list() {
                    Some(l) => l.iter().map(|v| v.to_str().to_string()).collect::<Vec<_>>(),
                    None if a.is_nullish() => Vec::new(),
                    None => a
                        .to_str()
                        .split(',')
                        .map(|k| k.trim().to_string())
                        .collect(),
                })
                .filter(|k| !k.is_empty())
                .collect();
            new_arr(dedupe(items, &keys))
        }
        "compact" => new_arr(
            items
                .into_iter()
                .filter(|v| !v.is_nullish() && !matches!(v, Val::Str(s) if s.is_empty()))
                .collect(),
        ),
        "pluck" => {
            let fields: Vec<JsStr> = args.iter().map(|a| a.to_str()).collect();
            if fields.is_empty() {
                return Ok(Some(new_arr(items)));
            }
            let mut out = Vec::new();
            for v in &items {
                if v.entries().is_none() {
                    continue;
                }
                if fields.len() == 1 {
                    if let Some(x) = v.own(&fields[0]) {
                        out.push(x);
                    }
                } else {
                    let picked: Vec<_> = fields
                        .iter()
                        .filter_map(|k| v.own(k).map(|x| (k.clone(), x)))
                        .collect();
                    if !picked.is_empty() {
                        out.push(new_obj(Obj(picked)));
                    }
                }
            }
            new_arr(out)
        }
        "smartJoin" => {
            let key_field = arg(args, 0).to_str();
            let value_field = arg(args, 1).to_str();
            let mut obj = Obj::default();
            for v in &items {
                if let Some(k) = v.own(&key_field) {
                    obj.set(k.to_str(), v.own(&value_field).unwrap_or(Val::Undefined));
                }
            }
            new_obj(obj)
        }
        "chunk" => {
            let size = int_arg(args, 0, 0.0);
            if size < 1.0 {
                return Err(ExprError::eval(
                    "chunk(): the chunk size must be at least 1",
                ));
            }
            new_arr(
                items
                    .chunks(size as usize)
                    .map(|c| new_arr(c.to_vec()))
                    .collect(),
            )
        }
        "renameKeys" => {
            let pairs: Vec<(JsStr, JsStr)> = args
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| (c[0].to_str(), c[1].to_str()))
                .collect();
            new_arr(
                items
                    .into_iter()
                    .map(|v| match v.entries() {
                        Some(entries) if !matches!(v, Val::Item(_)) => new_obj(Obj(entries
                            .into_iter()
                            .map(|(k, x)| {
                                let k = pairs
                                    .iter()
                                    .find(|(from, _)| **from == *k)
                                    .map_or(k, |(_, to)| to.clone());
                                (k, x)
                            })
                            .collect())),
                        _ => v,
                    })
                    .collect(),
            )
        }
        "merge" => match arg(args, 0).list() {
            Some(other) => new_arr(
                items
                    .iter()
                    .zip(other.iter())
                    .map(|(a, b)| merge_objects(a, b))
                    .chain(items.iter().skip(other.len()).cloned())
                    .collect(),
            ),
            None => items
                .iter()
                .fold(new_obj(Obj::default()), |acc, v| merge_objects(&acc, v)),
        },
        "union" => {
            let mut all = items;
            all.extend(arg(args, 0).list().unwrap_or_default());
            new_arr(dedupe(all, &[]))
        }
        "difference" | "intersection" => {
            let other: Vec<Value> = arg(args, 0)
                .list()
                .unwrap_or_default()
                .iter()
                .map(Val::to_json)
                .collect();
            let keep_common = name == "intersection";
            let kept = items
                .into_iter()
                .filter(|v| contains_json(&other, &v.to_json()) == keep_common)
                .collect();
            new_arr(if keep_common { dedupe(kept, &[]) } else { kept })
        }
        "append" => {
            let mut out = items;
            out.extend(args.iter().cloned());
            new_arr(out)
        }
        "toJsonString" => str_val(to_json_string(recv)),
        _ => return Ok(None),
    }))
}
