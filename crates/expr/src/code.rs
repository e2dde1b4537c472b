//! Code-node scripts on the native evaluator.
//!
//! Most Code nodes are a few statements over `$input.all()`: loops, `if`, assignments to
//! `item.json.x`, `return` of `{json}` objects. Running those in QuickJS means building a
//! JavaScript object per item and reading every returned value back; the expression evaluator
//! already has JavaScript's values and operators over borrowed item data, so a [`CodeScript`]
//! runs such scripts on it instead.
//!
//! The native path must never change what a script does, so it is taken only when it can be
//! sure: a script outside the subset (see [`crate::parser::parse_script`]) is refused when the
//! node is built, and anything a run cannot do exactly as JavaScript would (an error of any kind,
//! `throw`, a write into nested item data, a method that is not JavaScript's, a loop past the time
//! limit, an output object whose key order JavaScript would change) ends the run with an error
//! before it has any effect; the caller then runs the script in QuickJS. Input items are the
//! script's own objects (`{json, binary?}`, made when first read and the same object however
//! they are reached: `$input.all()`, `items`, `$input.first()`, `$json`), so
//! `const j = item.json; j.x = 1` changes the item as in JavaScript; values nested in them stay
//! borrowed from the items.

use crate::ast::{Global, Stmt};
use crate::eval::Ctx;
use crate::methods::to_json_string;
use crate::parser::parse_script;
use crate::value::*;
use crate::{ExprError, Scope};
use serde_json::{json, Value};
use sluice_js::{check_code, CodeMode, CodeOutput, JsError, OutputItem};
use sluice_model::{Item, ItemJson, ObjectRef};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A Code node's script, parsed once when the node is built.
#[derive(Debug)]
pub struct CodeScript {
    body: Vec<Stmt>,
    mode: CodeMode,
    /// The legacy Function Item node: `item` is the item's JSON rather than the item.
    item_is_json: bool,
    /// A per-item script that reaches only its own item (no `items`, `$input.all()`,
    /// `.first()`, `.last()`, judged from the text), so one run cannot change what another
    /// returned.
    items_apart: bool,
}

impl CodeScript {
    /// Parses `source` (the body of the node's function). `Err` when the script is outside
    /// the native subset, or is not valid JavaScript (QuickJS reports that when it runs).
    pub fn parse(
        source: &str,
        mode: CodeMode,
        item_is_json: bool,
    ) -> Result<CodeScript, ExprError> {
        let body = parse_script(source)?;
        // Early errors the native parser does not look for (a `let` shadowing a parameter,
        // `break` outside a loop, ...) are QuickJS's to report.
        check_code(source).map_err(|e| match e {
            JsError::Thrown { message, .. } => ExprError::Syntax(message),
            other => ExprError::Syntax(other.to_string()),
        })?;
        Ok(CodeScript {
            body,
            mode,
            item_is_json,
            items_apart: !["items", "all", "first", "last"]
                .iter()
                .any(|word| source.contains(word)),
        })
    }

    /// Runs the script over the input items; `scope_at(i)` is the scope of input item `i`
    /// (per-item scripts run once per item). `Err` means the run could not be done natively
    /// and has had no effect: run the script in QuickJS. `time_limit` bounds the loops.
    pub fn run<S: Scope>(
        &self,
        scope_at: impl Fn(usize) -> S,
        time_limit: Duration,
    ) -> Result<CodeOutput, ExprError> {
        let first = scope_at(0);
        let count = first.input_items().len();
        // Input objects with array-index keys: JavaScript lists those first.
        if first
            .input_items()
            .iter()
            .any(|item| item.json.keys().any(|k| is_index(k)))
        {
            return Err(not_native("an input key JavaScript orders first"));
        }
        let mut scopes = vec![first];
        if self.mode == CodeMode::EachItem {
            scopes.extend((1..count).map(&scope_at));
        }
        let mut ctx = Ctx::new(&scopes[0]);
        ctx.code = Some(Box::new(CodeRun {
            items: scopes[0].input_items(),
            converted: vec![None; count],
            converted_json: HashMap::new(),
            all: None,
            item_is_json: self.item_is_json,
            logs: Vec::new(),
            deadline: Instant::now() + time_limit,
            ticks: 0,
            walked: Vec::new(),
        }));
        let items = match self.mode {
            CodeMode::AllItems => {
                let values = match ctx.run_body(&self.body)? {
                    Val::Undefined | Val::Null => Vec::new(),
                    // The script's own array, if nothing else holds it: each value is dropped
                    // once it is read, so the items it becomes can reuse its memory.
                    Val::Arr(list) => match Rc::try_unwrap(list) {
                        Ok(list) => list.into_inner(),
                        Err(list) => list.borrow().clone(),
                    },
                    other => other.list().unwrap_or_else(|| vec![other]),
                };
                // Collected into a list of the right size: one grown by doubling would hold up
                // to twice the items' width while the items are built.
                let mut items = Vec::with_capacity(values.len());
                for value in values {
                    items.push(output_item(&value, None, ctx.code.as_deref())?);
                }
                items
            }
            CodeMode::EachItem => {
                let mut results = Vec::with_capacity(count);
                let mut items = Vec::with_capacity(count);
                for (index, scope) in scopes[..count].iter().enumerate() {
                    ctx.scope = scope;
                    let result = ctx.run_body(&self.body)?;
                    if self.items_apart {
                        // No later run can reach this one's objects: read them now and let
                        // them go.
                        items.extend(per_item_output(&result, index, ctx.code.as_deref())?);
                        if let Some(run) = &mut ctx.code {
                            run.converted[index] = None;
                        }
                    } else {
                        results.push(result);
                    }
                }
                // Otherwise read once every item has run: a later item's run may change an
                // earlier one's returned object, and JavaScript reads them at the end too.
                for (index, result) in results.iter().enumerate() {
                    items.extend(per_item_output(result, index, ctx.code.as_deref())?);
                }
                items
            }
        };
        let logs = ctx.code.take().map(|run| run.logs).unwrap_or_default();
        Ok(CodeOutput {
            items,
            logs,
            static_data: None,
        })
    }
}

/// What one run of a per-item script returned, as an item (none for `null` or `undefined`).
fn per_item_output(
    result: &Val,
    index: usize,
    run: Option<&CodeRun>,
) -> Result<Option<OutputItem>, ExprError> {
    match result {
        Val::Undefined | Val::Null => Ok(None),
        r if r.is_array() => Err(not_native("an array returned per item")),
        r => output_item(r, Some(index), run).map(Some),
    }
}

/// Why a run leaves the native path (the message is never shown: QuickJS runs the script).
fn not_native(why: &str) -> ExprError {
    ExprError::eval(format!("not native: {why}"))
}

/// Longest array or string a native run makes (16 Mi elements); longer ones are QuickJS's
/// business, under its memory limit.
pub(crate) const MAX_LENGTH: usize = 1 << 24;

/// Loop iterations a native run may make in all; a longer run goes to QuickJS, whose memory
/// limit the native path does not have.
const MAX_TICKS: u64 = 50_000_000;

/// Loop iterations between two looks at the clock.
const TICKS_PER_CLOCK_CHECK: u32 = 4096;

/// The state of one native run: the input items as the script's objects, and its logs.
pub(crate) struct CodeRun<'a> {
    items: &'a [Item],
    /// Input item `i` as an object, once read.
    converted: Vec<Option<Val<'a>>>,
    /// The input item whose `json` each converted `json` object (by address) was made from. An
    /// address reused after an item's objects were let go can only lead to a field-by-field
    /// comparison that fails, never to a wrong item (see [`CodeRun::unchanged_input`]).
    converted_json: HashMap<usize, usize>,
    /// `$input.all()` / `items`, once read: one array, as in JavaScript.
    all: Option<Val<'a>>,
    item_is_json: bool,
    logs: Vec<String>,
    deadline: Instant,
    ticks: u64,
    /// The arrays loops and callback methods are walking (by address), innermost last.
    walked: Vec<usize>,
}

impl<'a> CodeRun<'a> {
    /// Counts a loop iteration; past the deadline the run leaves the native path (QuickJS
    /// then applies its own limit and reports it).
    pub(crate) fn tick(&mut self) -> Result<(), ExprError> {
        self.ticks += 1;
        if self.ticks.is_multiple_of(u64::from(TICKS_PER_CLOCK_CHECK))
            && (Instant::now() > self.deadline || self.ticks > MAX_TICKS)
        {
            return Err(not_native("time limit"));
        }
        Ok(())
    }

    pub(crate) fn walk(&mut self, array: &ArrRef<'a>) {
        self.walked.push(Rc::as_ptr(array) as *const u8 as usize);
    }

    pub(crate) fn walked(&mut self) {
        self.walked.pop();
    }

    pub(crate) fn is_walked(&self, array: &ArrRef<'a>) -> bool {
        self.walked
            .contains(&(Rc::as_ptr(array) as *const u8 as usize))
    }

    /// Input item `index` as the script's `{json, binary?}` object (`undefined` past the end).
    fn at(&mut self, index: usize) -> Val<'a> {
        let Some(item) = self.items.get(index) else {
            return Val::Undefined;
        };
        let converted_json = &mut self.converted_json;
        self.converted[index]
            .get_or_insert_with(|| {
                let json: ObjRef = Rc::new(RefCell::new(Obj(item
                    .json
                    .iter()
                    .map(|(k, v)| (JsStr::Borrowed(k.as_str()), Val::from_json(v)))
                    .collect())));
                converted_json.insert(Rc::as_ptr(&json) as *const u8 as usize, index);
                let mut object = Obj(vec![(JsStr::Borrowed("json"), Val::Obj(json))]);
                if let Some(binary) = item.binary.as_deref() {
                    object.0.push((
                        JsStr::Borrowed("binary"),
                        Val::JsonObj(ObjectRef::Map(binary)),
                    ));
                }
                new_obj(object)
            })
            .clone()
    }

    /// The shared JSON of the input item `json` was made from, when the script returns it
    /// unchanged (what it would be turned back into is that JSON itself): the output item then
    /// shares it, as a script filtering or reordering its input costs no copies.
    fn unchanged_input(&self, json: &Val) -> Option<Arc<ItemJson>> {
        let Val::Obj(object) = json else {
            return None;
        };
        let index = *self
            .converted_json
            .get(&(Rc::as_ptr(object) as *const u8 as usize))?;
        let input = &self.items[index].json;
        let object = object.borrow();
        let unchanged =
            object.0.len() == input.len()
                && object.0.iter().zip(input.iter()).all(
                    |((key, value), (input_key, input_value))| {
                        **key == **input_key && value.is_unchanged(input_value)
                    },
                );
        unchanged.then(|| input.clone())
    }

    fn all(&mut self) -> Val<'a> {
        if let Some(all) = &self.all {
            return all.clone();
        }
        let all = new_arr((0..self.items.len()).map(|i| self.at(i)).collect());
        self.all = Some(all.clone());
        all
    }
}

/// The current item of a Code script's run (item 0 when it runs once for all items).
fn current<'a>(ctx: &mut Ctx<'a>) -> Option<Val<'a>> {
    let index = ctx.scope.item_index();
    let run = ctx.code.as_mut()?;
    Some(run.at(index))
}

/// The Code-script meaning of an n8n variable: `$json`, `$binary`, `items`, `item`. `None`
/// outside a Code script or for other variables.
pub(crate) fn variable<'a>(ctx: &mut Ctx<'a>, g: Global) -> Option<Val<'a>> {
    let own = |item: Val<'a>, key: &str| item.own(key).unwrap_or(Val::Undefined);
    let item_is_json = ctx.code.as_ref()?.item_is_json;
    Some(match g {
        Global::Json => own(current(ctx)?, "json"),
        Global::Binary => own(current(ctx)?, "binary"),
        Global::CodeItem if item_is_json => own(current(ctx)?, "json"),
        Global::CodeItem => current(ctx)?,
        Global::CodeItems => ctx.code.as_mut()?.all(),
        _ => return None,
    })
}

/// `$input.item` (`call` false) and `$input.all()`, `.first()`, `.last()` in a Code script.
/// `None` outside a Code script; an error for what the native path does not provide.
pub(crate) fn input<'a>(
    ctx: &mut Ctx<'a>,
    name: &str,
    call: bool,
) -> Option<Result<Val<'a>, ExprError>> {
    let run = ctx.code.as_mut()?;
    Some(Ok(match (name, call) {
        ("all", true) => run.all(),
        ("first", true) => run.at(0),
        ("last", true) => match run.items.len() {
            0 => Val::Undefined,
            n => run.at(n - 1),
        },
        ("item", false) => return current(ctx).map(Ok),
        _ => return Some(Err(not_native("a member of $input"))),
    }))
}

/// `console.log(...)` and its aliases: the values as the Code node logs them.
pub(crate) fn console<'a>(ctx: &mut Ctx<'a>, name: &str, args: &[Val<'a>]) -> Option<Val<'a>> {
    if !matches!(name, "log" | "info" | "warn" | "error" | "debug") {
        return None;
    }
    let line = args
        .iter()
        .map(|v| match v {
            Val::Str(s) => s.to_string(),
            Val::Undefined => "undefined".to_string(),
            other => to_json_string(other),
        })
        .collect::<Vec<_>>()
        .join(" ");
    ctx.code.as_mut()?.logs.push(line);
    Some(Val::Undefined)
}

/// Whether `recv.name(...)` in a Code script is a JavaScript method the evaluator implements as
/// JavaScript does. n8n's extension methods (`"a".isEmpty()`, `[1].sum()`) exist only in
/// expressions, so a script calling one is JavaScript's business.
pub(crate) fn is_script_method(recv: &Val, name: &str) -> bool {
    let methods: &[&str] = match recv {
        Val::Str(_) => &[
            "at",
            "charAt",
            "charCodeAt",
            "codePointAt",
            "concat",
            "endsWith",
            "includes",
            "indexOf",
            "lastIndexOf",
            "match",
            "matchAll",
            "padEnd",
            "padStart",
            "repeat",
            "replace",
            "replaceAll",
            "search",
            "slice",
            "split",
            "startsWith",
            "substring",
            "substr",
            "toLowerCase",
            "toUpperCase",
            "toString",
            "trim",
            "trimEnd",
            "trimStart",
            "valueOf",
        ],
        Val::Num(_) => &["toFixed", "toString", "toPrecision", "valueOf"],
        Val::Bool(_) => &["toString", "valueOf"],
        Val::JsonArr(_) | Val::Arr(_) => &[
            "at",
            "concat",
            "entries",
            "every",
            "fill",
            "filter",
            "find",
            "findIndex",
            "findLast",
            "findLastIndex",
            "flat",
            "flatMap",
            "forEach",
            "includes",
            "indexOf",
            "join",
            "keys",
            "lastIndexOf",
            "map",
            "pop",
            "push",
            "reduce",
            "reduceRight",
            "reverse",
            "shift",
            "slice",
            "some",
            "sort",
            "splice",
            "toReversed",
            "toSorted",
            "toSpliced",
            "unshift",
            "values",
        ],
        Val::JsonObj(_) | Val::Obj(_) | Val::Item(_) => {
            return name == "hasOwnProperty" || matches!(recv.own(name), Some(Val::Func(_)))
        }
        Val::Date(_) => &[
            "getTime",
            "valueOf",
            "toISOString",
            "toJSON",
            "getUTCFullYear",
            "getUTCMonth",
            "getUTCDate",
            "getUTCDay",
            "getUTCHours",
            "getUTCMinutes",
            "getUTCSeconds",
            "getUTCMilliseconds",
        ],
        Val::DateTime(_) => &[
            "toISO",
            "toISODate",
            "toMillis",
            "toSeconds",
            "toJSON",
            "valueOf",
            "startOf",
            "endOf",
            "toUTC",
            "toFormat",
        ],
        Val::Regex(_) => &["test"],
        Val::Func(_) => &["call", "apply"],
        Val::Global(Global::Math) => return true,
        Val::Global(Global::JsonNs) => &["parse", "stringify"],
        Val::Global(Global::Object) => &["keys", "values", "entries", "assign", "fromEntries"],
        Val::Global(Global::Array) => &["isArray", "from", "of"],
        Val::Global(Global::Number) => &["isInteger", "isFinite", "isNaN", "isSafeInteger"],
        Val::Global(Global::String) => &["fromCharCode"],
        Val::Global(Global::Date) => &["now", "UTC"],
        Val::Global(Global::Input | Global::Console) => return true,
        Val::NodeRef(_) => &["all", "first", "last", "itemMatching"],
        _ => &[],
    };
    methods.contains(&name)
}

/// Whether `recv.key` in a Code script reads what JavaScript would.
pub(crate) fn is_script_property(recv: &Val, key: &str) -> bool {
    match recv {
        // A TypeError in JavaScript.
        Val::Undefined | Val::Null => false,
        // Functions' and dates' properties are methods the evaluator has no value for.
        Val::Func(_) | Val::Date(_) | Val::DateTime(_) | Val::LegacyNode(_) => false,
        Val::NodeRef(_) => matches!(key, "item" | "isExecuted" | "params"),
        Val::Global(g) => matches!(g, Global::Math | Global::Number | Global::Input),
        // Besides their elements and length, strings' and arrays' properties are methods, and
        // numbers' and booleans' all are: the evaluator has no value for them.
        Val::Str(_) | Val::JsonArr(_) | Val::Arr(_) => key == "length" || is_index(key),
        Val::Num(_) | Val::Bool(_) => false,
        Val::Regex(_) => matches!(
            key,
            "source" | "flags" | "global" | "ignoreCase" | "multiline"
        ),
        // An object's own keys; the names its prototype gives it are functions in JavaScript.
        Val::JsonObj(_) | Val::Obj(_) | Val::Item(_) => {
            !OBJECT_PROTOTYPE.contains(&key) || recv.own(key).is_some()
        }
    }
}

/// What every object inherits from `Object.prototype`.
const OBJECT_PROTOTYPE: &[&str] = &[
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toString",
    "valueOf",
    "toLocaleString",
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

/// One value a script returned, as an item (`index` is the item it ran for, per item).
fn output_item(
    value: &Val,
    index: Option<usize>,
    run: Option<&CodeRun>,
) -> Result<OutputItem, ExprError> {
    if !matches!(value, Val::Obj(_) | Val::JsonObj(_) | Val::Item(_)) {
        return Err(not_native("an item that is not an object"));
    }
    let (json, binary, paired_item) = match value.own("json") {
        Some(json @ (Val::Obj(_) | Val::JsonObj(_))) => (
            json,
            value.own("binary").unwrap_or(Val::Undefined),
            value.own("pairedItem").unwrap_or(Val::Undefined),
        ),
        Some(_) => return Err(not_native("a `json` that is not an object")),
        None => (value.clone(), Val::Undefined, Val::Undefined),
    };
    let object = |v: &Val| match script_json(v)? {
        Value::Object(map) => Ok(map),
        _ => Err(not_native("not an object")),
    };
    let binary = match binary {
        Val::Undefined | Val::Null => None,
        b => Some(Box::new(object(&b)?)),
    };
    let paired_item = match (&paired_item, index) {
        (Val::Undefined | Val::Null, Some(i)) => Some(Box::new(json!({ "item": i }))),
        (Val::Undefined | Val::Null, None) => None,
        (p, _) => Some(Box::new(script_json(p)?)),
    };
    let json = match (value, run.and_then(|run| run.unchanged_input(&json))) {
        (_, Some(shared)) => shared,
        // Another node's item (`$('X').all()`), which a script only reads: its JSON as it is,
        // unless JavaScript would list some of its keys first.
        (Val::Item(item), None) if !object_has_index_key(item.json.iter()) => item.json.clone(),
        _ => Arc::new(script_item_json(&json)?),
    };
    Ok(OutputItem {
        json,
        binary,
        paired_item,
    })
}

/// A returned value as JSON, as the Code node reads JavaScript's values. `Err` for what the
/// native path cannot read the same way: keys JavaScript orders first (array indices), values
/// nested too deep (or circular), built-ins.
fn script_json(value: &Val) -> Result<Value, ExprError> {
    let json = value
        .to_json_within(sluice_js::convert::MAX_DEPTH)
        .ok_or_else(|| not_native("too deep"))?;
    if has_index_key(&json) {
        return Err(not_native("a key JavaScript orders first"));
    }
    Ok(json)
}

/// An object the script made, as an item's JSON: [`script_json`] field by field, straight into
/// the item's object (no `serde_json::Map` in between); other objects go through it.
fn script_item_json(value: &Val) -> Result<ItemJson, ExprError> {
    let Val::Obj(object) = value else {
        return match script_json(value)? {
            Value::Object(map) => Ok(map.into()),
            _ => Err(not_native("not an object")),
        };
    };
    let object = object.borrow();
    let mut json = ItemJson::with_capacity(object.0.len());
    let depth = sluice_js::convert::MAX_DEPTH - 1;
    for (key, field) in &object.0 {
        if matches!(field, Val::Undefined) || field.is_function() {
            continue;
        }
        let field = field
            .to_json_within(depth)
            .ok_or_else(|| not_native("too deep"))?;
        if is_index(key) || has_index_key(&field) {
            return Err(not_native("a key JavaScript orders first"));
        }
        json.insert(&**key, field);
    }
    Ok(json)
}

/// True when an object in `value` has a key that is an array index: JavaScript lists those
/// before the others, in numeric order, whatever order they were set in.
fn has_index_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => object_has_index_key(map.iter()),
        Value::Array(list) => list.iter().any(has_index_key),
        _ => false,
    }
}

/// [`has_index_key`] for an object.
fn object_has_index_key<'v>(mut fields: impl Iterator<Item = (&'v String, &'v Value)>) -> bool {
    fields.any(|(k, v)| is_index(k) || has_index_key(v))
}

pub(crate) fn is_index(key: &str) -> bool {
    key.bytes().all(|b| b.is_ascii_digit())
        && (key == "0" || (!key.is_empty() && !key.starts_with('0')))
        && key.parse::<u64>().is_ok_and(|n| n < u64::from(u32::MAX))
}
