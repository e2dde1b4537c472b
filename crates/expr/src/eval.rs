//! The tree-walking evaluator: expressions, operators, calls, arrow functions and their block
//! bodies, assignments to locals.
//!
//! Member access on `null`/`undefined` yields `undefined` instead of a TypeError, as n8n's
//! expression sandbox swallows those errors. Property reads and method calls are dispatched by
//! receiver type in [`crate::methods`]; n8n variables and JS globals live in [`crate::globals`].

use crate::ast::*;
use crate::code::CodeRun;
use crate::comparison::Comparison;
use crate::globals;
use crate::luxon::Zone;
use crate::methods;
use crate::numfmt::js_number_to_string;
use crate::value::*;
use crate::{ExprError, Scope, MAX_NESTING};
use serde_json::Value;
use sluice_model::{ItemJson, JsonObject};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// A local variable's storage, shared with closures that capture it.
type Slot<'a> = Rc<RefCell<Val<'a>>>;

/// Local variables, innermost last; names borrow from the expression tree.
type Locals<'a> = Vec<(&'a str, Slot<'a>)>;

/// Deepest nesting of arrow-function calls before we report a stack overflow.
const MAX_DEPTH: u32 = 256;

/// Deepest recursion of [`Ctx::eval`], summed over nested calls. One expression's tree is at most
/// about [`MAX_NESTING`] deep (the parser sees to it), but a recursive arrow function evaluates
/// its body again at every call; this bounds the stack the evaluator can use in all.
const MAX_EVAL_DEPTH: u32 = 2 * MAX_NESTING as u32;

/// Evaluation state for one template evaluation.
pub struct Ctx<'a> {
    pub scope: &'a dyn Scope,
    locals: Locals<'a>,
    /// Arrow-function calls in progress.
    depth: u32,
    /// [`Ctx::eval`] calls in progress.
    eval_depth: u32,
    /// Set when the evaluation tried to change item data in place (see [`Ctx::write_to_item_data`]).
    wrote_item_data: bool,
    /// Set while an [`Expr::Opt`] base that was nullish ends its chain (see [`Expr::OptChain`]).
    short_circuit: bool,
    /// Set when the evaluation read a property of `null`/`undefined` (see [`Ctx::read_of_nullish`]).
    read_nullish: bool,
    /// The input items and logs of a Code script's run; `None` for expressions.
    pub(crate) code: Option<Box<CodeRun<'a>>>,
}

/// An arrow function with the local slots it closes over.
pub struct Closure<'a> {
    pub func: &'a Func,
    captured: Locals<'a>,
}

enum Flow<'a> {
    Normal,
    Return(Val<'a>),
    Break,
    Continue,
}

fn type_error(msg: impl Into<String>) -> ExprError {
    ExprError::eval(msg)
}

/// JavaScript's message for recursion past the stack.
fn stack_exceeded() -> ExprError {
    type_error("Maximum call stack size exceeded")
}

/// Human-readable name of a callee, for "x is not a function".
fn describe(e: &Expr) -> String {
    match e {
        Expr::Local(n) | Expr::Unknown(n) => n.to_string(),
        Expr::Global(g) => g.name().to_string(),
        Expr::Member(o, k) => format!("{}.{k}", describe(o)),
        Expr::JsonPath(keys) => format!("$json.{}", keys.join(".")),
        Expr::Index(o, _) => format!("{}[...]", describe(o)),
        Expr::Call(c, _) => format!("{}(...)", describe(c)),
        _ => "expression".into(),
    }
}

/// `map[key]`. Items usually have a handful of fields, and comparing a few short keys is
/// cheaper than hashing one, so small objects are scanned.
fn field<'v>(map: &'v JsonObject, key: &str) -> Option<&'v Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// Where a `$json` key chain leads in an item's data (see [`follow_json_path`]).
pub(crate) enum PathEnd<'v> {
    /// The value the whole chain names; `None` when its last key is missing.
    Value(Option<&'v Value>),
    /// Key `i`, not the last, is missing: reading key `i + 1` is a read from `undefined`.
    MissingAt(usize),
    /// The value before key `i` is not an object (an array, a string, ...): the generic
    /// property rules apply from key `i` on.
    NotObjectAt(usize, &'v Value),
}

/// Follows `keys` through the plain objects of `json`.
pub(crate) fn follow_json_path<'v>(json: &'v ItemJson, keys: &[Arc<str>]) -> PathEnd<'v> {
    let (first, rest) = keys
        .split_first()
        .expect("a JSON path has at least one key");
    let mut value = json.get(first);
    for (i, key) in rest.iter().enumerate() {
        match value {
            Some(Value::Object(inner)) => value = field(inner, key),
            Some(other) => return PathEnd::NotObjectAt(i + 1, other),
            None => return PathEnd::MissingAt(i),
        }
    }
    PathEnd::Value(value)
}

impl<'a> Ctx<'a> {
    pub fn new(scope: &'a dyn Scope) -> Self {
        Ctx {
            scope,
            locals: Vec::new(),
            depth: 0,
            eval_depth: 0,
            wrote_item_data: false,
            short_circuit: false,
            read_nullish: false,
            code: None,
        }
    }

    /// The current time for `new Date()`, `Date.now()` and luxon's `DateTime.now()`: the
    /// scope's clock in expressions; in a Code script the system clock, as its JavaScript
    /// sees it.
    pub fn now(&self) -> chrono::DateTime<chrono::FixedOffset> {
        match self.code {
            Some(_) => chrono::Utc::now().fixed_offset(),
            None => self.scope.now(),
        }
    }

    /// In a Code script, refuses to make an array or string of `len` elements past
    /// [`crate::code::MAX_LENGTH`]: QuickJS runs the script under its memory limit instead.
    pub(crate) fn check_length(&self, len: f64) -> Result<(), ExprError> {
        match &self.code {
            Some(_) if len > crate::code::MAX_LENGTH as f64 => {
                Err(type_error("a value too large for a native run"))
            }
            _ => Ok(()),
        }
    }

    /// In a Code script, refuses an object key that is an array index (JavaScript orders those
    /// first, the evaluator's objects keep insertion order) or `__proto__` (a prototype).
    fn check_key(&self, key: &str) -> Result<(), ExprError> {
        match &self.code {
            Some(_) if crate::code::is_index(key) || key == "__proto__" => {
                Err(type_error("an array-index key in a Code script"))
            }
            _ => Ok(()),
        }
    }

    /// In a Code script, refuses to change an array that a loop or a callback method is
    /// walking: JavaScript would see the change in the walk, the evaluator walks a copy.
    pub(crate) fn check_not_walked(&self, array: &ArrRef<'a>) -> Result<(), ExprError> {
        match &self.code {
            Some(run) if run.is_walked(array) => {
                Err(type_error("an array changed while it is walked"))
            }
            _ => Ok(()),
        }
    }

    /// Runs `walk` with `list` marked as walked (see [`Ctx::check_not_walked`]).
    pub(crate) fn walking<T>(
        &mut self,
        list: &Val<'a>,
        walk: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        let marked = match (list, &mut self.code) {
            (Val::Arr(a), Some(run)) => {
                run.walk(a);
                true
            }
            _ => false,
        };
        let result = walk(self);
        if let (true, Some(run)) = (marked, &mut self.code) {
            run.walked();
        }
        result
    }

    /// Runs statements as a function body: the value of its `return`, else `undefined`.
    pub(crate) fn run_body(&mut self, stmts: &'a [Stmt]) -> Result<Val<'a>, ExprError> {
        Ok(match self.exec_block(stmts)? {
            Flow::Return(v) => v,
            _ => Val::Undefined,
        })
    }

    /// Stops the evaluation because it changes item data in place (`o.x = 1` where `o` is
    /// `$json.nested`, `$json.tags.sort()`). The native evaluator borrows item data and cannot
    /// make such a write visible through `$json` as JavaScript does, so the template runs the
    /// chunk again in QuickJS (see [`Ctx::take_item_data_write`]).
    pub(crate) fn write_to_item_data(&mut self) -> ExprError {
        self.wrote_item_data = true;
        ExprError::eval("the expression changes item data in place")
    }

    /// Whether the last evaluation stopped at a write to item data; clears the mark.
    pub(crate) fn take_item_data_write(&mut self) -> bool {
        std::mem::take(&mut self.wrote_item_data)
    }

    /// Stops the evaluation at a read of `key` from `null`/`undefined`: a TypeError in
    /// JavaScript, which n8n's sandbox turns into `undefined` for the whole chunk (so
    /// `$json.missing.x > 1` is `undefined`, not `false`; see [`Ctx::take_read_of_nullish`]).
    pub(crate) fn read_of_nullish(&mut self, recv: &Val, key: &str) -> ExprError {
        self.read_nullish = true;
        ExprError::eval(format!(
            "Cannot read properties of {} (reading '{key}')",
            if matches!(recv, Val::Null) {
                "null"
            } else {
                "undefined"
            }
        ))
    }

    /// Whether the last evaluation stopped at a read from `null`/`undefined`; clears the mark.
    pub(crate) fn take_read_of_nullish(&mut self) -> bool {
        std::mem::take(&mut self.read_nullish)
    }

    /// The workflow time zone (luxon's default zone).
    pub fn zone(&self) -> Zone {
        Zone::parse(self.scope.timezone()).unwrap_or(Zone::Named(chrono_tz::Tz::UTC))
    }

    fn lookup(&self, name: &str) -> Option<&Slot<'a>> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }

    /// Runs one step of the evaluator's recursion (an expression, a block, a pattern), counted
    /// against [`MAX_EVAL_DEPTH`].
    fn deeper<T>(
        &mut self,
        step: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        if self.eval_depth >= MAX_EVAL_DEPTH {
            return Err(stack_exceeded());
        }
        self.eval_depth += 1;
        let result = step(self);
        self.eval_depth -= 1;
        result
    }

    pub fn eval(&mut self, e: &'a Expr) -> Result<Val<'a>, ExprError> {
        self.deeper(|ctx| ctx.eval_node(e))
    }

    fn eval_node(&mut self, e: &'a Expr) -> Result<Val<'a>, ExprError> {
        Ok(match e {
            Expr::Undefined => Val::Undefined,
            Expr::Js(chunk) => chunk.eval(self.scope)?,
            Expr::Null => Val::Null,
            Expr::Bool(b) => Val::Bool(*b),
            Expr::Num(n) => Val::Num(*n),
            Expr::Str(s) => Val::Str(JsStr::Borrowed(s)),
            Expr::Template(quasis, exprs) => {
                let mut out = String::from(&*quasis[0]);
                for (e, q) in exprs.iter().zip(&quasis[1..]) {
                    let v = self.eval(e)?;
                    out.push_str(&v.to_primitive(true).to_str());
                    out.push_str(q);
                }
                str_val(out)
            }
            Expr::Regex(r) => Val::Regex(r.clone()),
            Expr::Array(elems) => new_arr(self.eval_elems(elems)?),
            Expr::Object(props) => self.eval_object(props)?,
            Expr::Local(name) => self
                .lookup(name)
                .map_or(Val::Undefined, |s| s.borrow().clone()),
            Expr::Global(g) => globals::value(self, *g)?,
            Expr::Unknown(name) => match self.scope.node_variable(name) {
                Some(value) => Val::from_json(value),
                None => {
                    return Err(ExprError::Eval {
                        message: format!("{name} is not defined"),
                        description: Some(format!(
                            "The variable '{name}' is not known in expressions"
                        )),
                    })
                }
            },
            Expr::Member(obj, key) => {
                let obj = self.eval(obj)?;
                methods::property(self, &obj, key)?
            }
            Expr::JsonPath(keys) => self.json_path(keys)?,
            Expr::Index(obj, key) => {
                let obj = self.eval(obj)?;
                let key = self.eval(key)?;
                self.index(&obj, &key)?
            }
            Expr::Call(callee, args) => self.call(callee, args)?,
            Expr::New(callee, args) => {
                let args = self.eval_elems(args)?;
                match &**callee {
                    Expr::Global(g) => globals::construct(self, *g, args)?,
                    other => {
                        return Err(type_error(format!(
                            "{} is not a constructor",
                            describe(other)
                        )))
                    }
                }
            }
            Expr::Unary(op, operand) => {
                if *op == UnOp::TypeOf {
                    if let Expr::Unknown(name) = &**operand {
                        if self.scope.node_variable(name).is_none() {
                            return Ok(Val::Str(JsStr::Borrowed("undefined")));
                        }
                    }
                }
                let v = self.eval(operand)?;
                match op {
                    UnOp::Not => Val::Bool(!v.truthy()),
                    UnOp::Neg => Val::Num(-v.to_number()),
                    UnOp::Plus => Val::Num(v.to_number()),
                    UnOp::BitNot => Val::Num(f64::from(!to_int32(v.to_number()))),
                    UnOp::TypeOf => Val::Str(JsStr::Borrowed(v.type_of())),
                    UnOp::Void => Val::Undefined,
                }
            }
            Expr::Binary(op, l, r) => {
                let l = self.eval(l)?;
                let r = self.eval(r)?;
                self.binary(*op, &l, &r)?
            }
            Expr::Logical(op, l, r) => {
                let l = self.eval(l)?;
                if short_circuits(*op, &l) {
                    l
                } else {
                    self.eval(r)?
                }
            }
            Expr::Cond(c, a, b) => {
                if self.eval(c)?.truthy() {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::Arrow(f) => Val::Func(Rc::new(Closure {
                func: f,
                captured: self.locals.clone(),
            })),
            Expr::Assign(op, target, value) => {
                let v = match op {
                    None => self.eval(value)?,
                    Some(AssignOp::Bin(op)) => {
                        let cur = self.eval(target)?;
                        let rhs = self.eval(value)?;
                        self.binary(*op, &cur, &rhs)?
                    }
                    Some(AssignOp::Log(op)) => {
                        let cur = self.eval(target)?;
                        if short_circuits(*op, &cur) {
                            return Ok(cur);
                        }
                        self.eval(value)?
                    }
                };
                self.assign_to(target, v.clone())?;
                v
            }
            Expr::Update(delta, prefix, target) => {
                let old = self.eval(target)?.to_number();
                let new = old + delta;
                self.assign_to(target, Val::Num(new))?;
                Val::Num(if *prefix { new } else { old })
            }
            Expr::OptChain(chain) => match self.eval(chain) {
                Err(_) if std::mem::take(&mut self.short_circuit) => Val::Undefined,
                result => result?,
            },
            Expr::Opt(base) => {
                let v = self.eval(base)?;
                if v.is_nullish() {
                    self.short_circuit = true;
                    return Err(type_error("optional chain on a nullish value"));
                }
                v
            }
            Expr::Seq(all) => {
                let mut last = Val::Undefined;
                for e in all {
                    last = self.eval(e)?;
                }
                last
            }
        })
    }

    fn json_path(&mut self, keys: &'a [Arc<str>]) -> Result<Val<'a>, ExprError> {
        let Some(item) = self.scope.item() else {
            return Ok(Val::Undefined);
        };
        match follow_json_path(&item.json, keys) {
            PathEnd::Value(v) => Ok(v.map_or(Val::Undefined, Val::from_json)),
            PathEnd::MissingAt(i) => Err(self.read_of_nullish(&Val::Undefined, &keys[i + 1])),
            PathEnd::NotObjectAt(i, value) => {
                let mut v = Val::from_json(value);
                for key in &keys[i..] {
                    v = methods::property(self, &v, key)?;
                }
                Ok(v)
            }
        }
    }

    /// `obj[key]`.
    pub fn index(&mut self, obj: &Val<'a>, key: &Val<'a>) -> Result<Val<'a>, ExprError> {
        if let Val::Num(n) = key {
            let i = *n as usize;
            if i as f64 == *n {
                match obj {
                    Val::JsonArr(a) => return Ok(a.get(i).map_or(Val::Undefined, Val::from_json)),
                    Val::Arr(a) => return Ok(a.borrow().get(i).cloned().unwrap_or(Val::Undefined)),
                    _ => {}
                }
            }
        }
        let key = match key {
            Val::Num(n) => JsStr::from(js_number_to_string(*n)),
            other => other.to_str(),
        };
        methods::property(self, obj, &key)
    }

    fn eval_elems(&mut self, elems: &'a [Elem]) -> Result<Vec<Val<'a>>, ExprError> {
        let mut out = Vec::with_capacity(elems.len());
        for el in elems {
            match el {
                Elem::Expr(e) => out.push(self.eval(e)?),
                Elem::Spread(e) => {
                    let v = self.eval(e)?;
                    out.extend(self.iterate(&v)?);
                }
            }
        }
        Ok(out)
    }

    /// The values a `for..of` or spread walks over: array elements or string characters.
    pub fn iterate(&mut self, v: &Val<'a>) -> Result<Vec<Val<'a>>, ExprError> {
        if let Some(list) = v.list() {
            return Ok(list);
        }
        match v {
            Val::Str(s) => Ok(s.chars().map(|c| str_val(c.to_string())).collect()),
            other => Err(type_error(format!(
                "{} is not iterable",
                if other.is_nullish() {
                    other.to_str().to_string()
                } else {
                    other.type_of().to_string()
                }
            ))),
        }
    }

    fn eval_object(&mut self, props: &'a [Prop]) -> Result<Val<'a>, ExprError> {
        // As many slots as the literal has properties: a grown list would start at four, and a
        // script building many small objects (`{json: {...}}` per item) holds them all at once.
        let mut obj = Obj(Vec::with_capacity(props.len()));
        for p in props {
            match p {
                Prop::Key(k, e) => {
                    self.check_key(k)?;
                    let v = self.eval(e)?;
                    obj.set(JsStr::Borrowed(k), v);
                }
                Prop::Computed(k, e) => {
                    let k = self.eval(k)?.to_primitive(true).to_str();
                    self.check_key(&k)?;
                    let v = self.eval(e)?;
                    obj.set(k, v);
                }
                Prop::Spread(e) => {
                    let v = self.eval(e)?;
                    if let Some(entries) = v.entries() {
                        for (k, v) in entries {
                            self.check_key(&k)?;
                            obj.set(k, v);
                        }
                    } else if let Some(list) = v.list() {
                        for (i, v) in list.into_iter().enumerate() {
                            obj.set(JsStr::from(i.to_string()), v);
                        }
                    } else if let Val::Str(s) = &v {
                        for (i, c) in s.chars().enumerate() {
                            obj.set(JsStr::from(i.to_string()), str_val(c.to_string()));
                        }
                    }
                }
            }
        }
        Ok(new_obj(obj))
    }

    fn call(&mut self, callee: &'a Expr, args: &'a [Elem]) -> Result<Val<'a>, ExprError> {
        match callee {
            Expr::Global(Global::If) => {
                // `$if(c, a, b)` is a ternary: only the chosen branch is evaluated.
                if args.len() < 2 {
                    return Err(type_error("$if() expects at least 2 arguments"));
                }
                let arg = |i: usize| match args.get(i) {
                    Some(Elem::Expr(e)) => Some(e),
                    _ => None,
                };
                let cond = match arg(0) {
                    Some(e) => self.eval(e)?.truthy(),
                    None => false,
                };
                match arg(if cond { 1 } else { 2 }) {
                    Some(e) => self.eval(e),
                    None => Ok(Val::Undefined),
                }
            }
            Expr::Member(obj, name) => {
                let recv = self.eval(obj)?;
                let args = self.eval_elems(args)?;
                methods::call_method(self, recv, name, args)
            }
            Expr::JsonPath(keys) => {
                let (name, path) = keys.split_last().expect("non-empty path");
                let recv = if path.is_empty() {
                    globals::value(self, Global::Json)?
                } else {
                    self.json_path(path)?
                };
                let args = self.eval_elems(args)?;
                methods::call_method(self, recv, name, args)
            }
            Expr::Index(obj, key) => {
                let recv = self.eval(obj)?;
                let name = self.eval(key)?.to_str();
                let args = self.eval_elems(args)?;
                methods::call_method(self, recv, &name, args)
            }
            _ => {
                let f = self.eval(callee)?;
                let args = self.eval_elems(args)?;
                match f {
                    Val::Func(_) | Val::Global(_) if f.is_function() => self.call_value(&f, args),
                    _ => Err(type_error(format!(
                        "{} is not a function",
                        describe(callee)
                    ))),
                }
            }
        }
    }

    /// Calls a function value (arrow function or callable built-in).
    pub fn call_value(&mut self, f: &Val<'a>, args: Vec<Val<'a>>) -> Result<Val<'a>, ExprError> {
        match f {
            Val::Func(c) => self.call_closure(c, args),
            Val::Global(g) if g.is_callable() => globals::call_function(self, *g, args),
            other => Err(type_error(format!(
                "{} is not a function",
                other.to_primitive(true).to_str()
            ))),
        }
    }

    fn call_closure(&mut self, c: &Closure<'a>, args: Vec<Val<'a>>) -> Result<Val<'a>, ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(stack_exceeded());
        }
        let saved = std::mem::replace(&mut self.locals, c.captured.clone());
        self.depth += 1;
        let result = self.run_closure(c.func, args);
        self.depth -= 1;
        self.locals = saved;
        result
    }

    fn run_closure(&mut self, func: &'a Func, args: Vec<Val<'a>>) -> Result<Val<'a>, ExprError> {
        let mut args = args.into_iter();
        for p in &func.params {
            let v = if p.rest {
                new_arr(args.by_ref().collect())
            } else {
                args.next().unwrap_or(Val::Undefined)
            };
            self.bind_elem(p, v)?;
        }
        match &func.body {
            Body::Expr(e) => self.eval(e),
            Body::Block(stmts) => self.run_body(stmts),
        }
    }

    fn bind_elem(&mut self, p: &'a PatElem, v: Val<'a>) -> Result<(), ExprError> {
        let v = match (&v, &p.default) {
            (Val::Undefined, Some(d)) => self.eval(d)?,
            _ => v,
        };
        self.bind(&p.pattern, v)
    }

    fn bind(&mut self, pattern: &'a Pattern, v: Val<'a>) -> Result<(), ExprError> {
        self.deeper(|ctx| ctx.bind_at_level(pattern, v))
    }

    fn bind_at_level(&mut self, pattern: &'a Pattern, v: Val<'a>) -> Result<(), ExprError> {
        match pattern {
            Pattern::Name(n) => {
                self.locals.push((n, Rc::new(RefCell::new(v))));
            }
            Pattern::Array(elems) => {
                let list = self.iterate(&v)?;
                let mut it = list.into_iter();
                for el in elems {
                    match el {
                        None => {
                            it.next();
                        }
                        Some(p) if p.rest => self.bind_elem(p, new_arr(it.by_ref().collect()))?,
                        Some(p) => {
                            let item = it.next().unwrap_or(Val::Undefined);
                            self.bind_elem(p, item)?;
                        }
                    }
                }
            }
            Pattern::Object(props) => {
                if v.is_nullish() {
                    return Err(type_error(format!(
                        "Cannot destructure '{}' as it is {}.",
                        v.to_str(),
                        v.to_str()
                    )));
                }
                for (key, p) in props {
                    if p.rest {
                        let taken: Vec<&str> = props.iter().map(|(k, _)| &**k).collect();
                        let rest = v
                            .entries()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|(k, _)| !taken.contains(&&**k))
                            .collect();
                        self.bind_elem(p, new_obj(Obj(rest)))?;
                    } else {
                        let item = methods::property(self, &v, key)?;
                        self.bind_elem(p, item)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn exec_block(&mut self, stmts: &'a [Stmt]) -> Result<Flow<'a>, ExprError> {
        let mark = self.locals.len();
        let result = self.deeper(|ctx| ctx.exec_stmts(stmts));
        self.locals.truncate(mark);
        result
    }

    fn exec_stmts(&mut self, stmts: &'a [Stmt]) -> Result<Flow<'a>, ExprError> {
        for s in stmts {
            match s {
                Stmt::Decl(decls) => {
                    for (pattern, init) in decls {
                        let v = match init {
                            Some(e) => self.eval(e)?,
                            None => Val::Undefined,
                        };
                        self.bind(pattern, v)?;
                    }
                }
                Stmt::Expr(e) => {
                    self.eval(e)?;
                }
                Stmt::Return(e) => {
                    let v = match e {
                        Some(e) => self.eval(e)?,
                        None => Val::Undefined,
                    };
                    return Ok(Flow::Return(v));
                }
                Stmt::If(cond, then, otherwise) => {
                    let branch = if self.eval(cond)?.truthy() {
                        then
                    } else {
                        otherwise
                    };
                    match self.exec_block(branch)? {
                        Flow::Normal => {}
                        flow => return Ok(flow),
                    }
                }
                Stmt::ForOf(pattern, list, body) => {
                    let list = self.eval(list)?;
                    let flow = self.walking(&list, |ctx| {
                        for v in ctx.iterate(&list)? {
                            let mark = ctx.locals.len();
                            ctx.bind(pattern, v)?;
                            let flow = ctx.exec_block(body);
                            ctx.locals.truncate(mark);
                            match flow? {
                                Flow::Normal | Flow::Continue => {}
                                Flow::Break => break,
                                ret @ Flow::Return(_) => return Ok(ret),
                            }
                        }
                        Ok(Flow::Normal)
                    })?;
                    if let ret @ Flow::Return(_) = flow {
                        return Ok(ret);
                    }
                }
                Stmt::For {
                    init,
                    cond,
                    update,
                    body,
                    fresh_bindings,
                } => {
                    let mark = self.locals.len();
                    let flow = self.exec_for(init.as_deref(), cond, update, body, *fresh_bindings);
                    self.locals.truncate(mark);
                    if let ret @ Flow::Return(_) = flow? {
                        return Ok(ret);
                    }
                }
                Stmt::While(cond, body) => loop {
                    self.tick()?;
                    if !self.eval(cond)?.truthy() {
                        break;
                    }
                    match self.exec_block(body)? {
                        Flow::Normal | Flow::Continue => {}
                        Flow::Break => break,
                        ret @ Flow::Return(_) => return Ok(ret),
                    }
                },
                Stmt::Block(stmts) => match self.exec_block(stmts)? {
                    Flow::Normal => {}
                    flow => return Ok(flow),
                },
                Stmt::Throw => return Err(type_error("the script throws")),
                Stmt::Break => return Ok(Flow::Break),
                Stmt::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    /// A classic `for` loop; its loop variables stay on the locals for the caller to drop.
    fn exec_for(
        &mut self,
        init: Option<&'a Stmt>,
        cond: &'a Option<Expr>,
        update: &'a Option<Expr>,
        body: &'a [Stmt],
        fresh_bindings: bool,
    ) -> Result<Flow<'a>, ExprError> {
        let mark = self.locals.len();
        if let Some(init) = init {
            self.exec_stmts(std::slice::from_ref(init))?;
        }
        loop {
            self.tick()?;
            if let Some(cond) = cond {
                if !self.eval(cond)?.truthy() {
                    return Ok(Flow::Normal);
                }
            }
            match self.exec_block(body)? {
                Flow::Normal | Flow::Continue => {}
                Flow::Break => return Ok(Flow::Normal),
                ret @ Flow::Return(_) => return Ok(ret),
            }
            if fresh_bindings {
                // Each iteration has its own `let` bindings: closures made in this one keep
                // their values while the next iteration starts from copies.
                for (_, slot) in &mut self.locals[mark..] {
                    let value = slot.borrow().clone();
                    *slot = Rc::new(RefCell::new(value));
                }
            }
            if let Some(update) = update {
                self.eval(update)?;
            }
        }
    }

    /// Counts a loop iteration of a Code script against its time limit (see [`CodeRun`]).
    fn tick(&mut self) -> Result<(), ExprError> {
        match &mut self.code {
            Some(run) => run.tick(),
            None => Ok(()),
        }
    }

    /// Stores `value` at an assignment target. Writes into borrowed item data stop the native
    /// evaluation (see [`Ctx::write_to_item_data`]).
    fn assign_to(&mut self, target: &'a Expr, value: Val<'a>) -> Result<(), ExprError> {
        let (obj_expr, key) = match target {
            Expr::Local(name) => {
                let slot = self
                    .lookup(name)
                    .ok_or_else(|| type_error(format!("{name} is not defined")))?;
                *slot.borrow_mut() = value;
                return Ok(());
            }
            Expr::Member(obj, key) => (obj, Val::Str(JsStr::Borrowed(key))),
            Expr::Index(obj, key) => (obj, self.eval(key)?),
            // Assigning to `$json` and other built-ins has no effect.
            _ => return Ok(()),
        };
        // An array element by number, without going through the key's text.
        let index = match key {
            Val::Num(n) if n >= 0.0 && n.fract() == 0.0 && n < u32::MAX as f64 => Some(n as usize),
            _ => None,
        };
        let key = move || match key {
            Val::Num(n) => JsStr::from(js_number_to_string(n)),
            other => other.to_str(),
        };
        let container = self.eval(obj_expr)?;
        if let (Val::Arr(_), Some(i)) = (&container, index) {
            self.check_length(i as f64)?;
        }
        let container = match container {
            Val::JsonObj(_) | Val::JsonArr(_) | Val::Item(_) => {
                return Err(self.write_to_item_data())
            }
            Val::Undefined | Val::Null => {
                return Err(type_error(format!(
                    "Cannot set properties of {} (setting '{}')",
                    container.to_str(),
                    &*key()
                )))
            }
            other => other,
        };
        match container {
            Val::Obj(o) => {
                let key = key();
                self.check_key(&key)?;
                o.borrow_mut().set(key, value);
            }
            Val::Arr(a) => {
                self.check_not_walked(&a)?;
                let mut a = a.borrow_mut();
                let key = if index.is_some() { None } else { Some(key()) };
                if let Some(i) = index.or_else(|| key.as_ref()?.parse::<usize>().ok()) {
                    if i >= a.len() {
                        a.resize(i + 1, Val::Undefined);
                    }
                    a[i] = value;
                } else if key.as_deref() == Some("length") {
                    let n = value.to_number();
                    self.check_length(n)?;
                    if n >= 0.0 && n.fract() == 0.0 {
                        a.resize(n as usize, Val::Undefined);
                    }
                }
            }
            // Other values (a string, a date, ...) keep no properties: in a Code script
            // JavaScript would store one, so the script runs in QuickJS.
            _ if self.code.is_some() => {
                return Err(type_error("a property the evaluator cannot store"))
            }
            _ => {}
        }
        Ok(())
    }

    /// A binary operator on two evaluated operands.
    pub fn binary(&mut self, op: BinOp, l: &Val<'a>, r: &Val<'a>) -> Result<Val<'a>, ExprError> {
        use BinOp::*;
        Ok(match op {
            Eq | Ne | StrictEq | StrictNe | Lt | Gt | Le | Ge => {
                let comparison = Comparison::of(op).expect("a comparison operator");
                Val::Bool(comparison.apply(l, r))
            }
            Add => {
                let a = l.to_primitive(false);
                let b = r.to_primitive(false);
                if matches!(a, Val::Str(_)) || matches!(b, Val::Str(_)) {
                    let (a, b) = (a.to_str(), b.to_str());
                    let mut s = String::with_capacity(a.len() + b.len());
                    s.push_str(&a);
                    s.push_str(&b);
                    str_val(s)
                } else {
                    Val::Num(a.to_number() + b.to_number())
                }
            }
            Sub => Val::Num(l.to_number() - r.to_number()),
            Mul => Val::Num(l.to_number() * r.to_number()),
            Div => Val::Num(l.to_number() / r.to_number()),
            Rem => Val::Num(js_rem(l.to_number(), r.to_number())),
            Pow => Val::Num(js_pow(l.to_number(), r.to_number())),
            In => {
                let k = l.to_primitive(true).to_str();
                Val::Bool(match r {
                    Val::JsonArr(_) | Val::Arr(_) => {
                        k.parse::<usize>()
                            .is_ok_and(|i| i < r.list().map_or(0, |l| l.len()))
                            || &*k == "length"
                    }
                    other if other.entries().is_some() => other.own(&k).is_some(),
                    other => {
                        return Err(type_error(format!(
                            "Cannot use 'in' operator to search for '{}' in {}",
                            &*k,
                            other.to_str()
                        )))
                    }
                })
            }
            InstanceOf => Val::Bool(match r {
                Val::Global(Global::Array) => l.is_array(),
                Val::Global(Global::Object) => !matches!(
                    l,
                    Val::Undefined | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_)
                ),
                Val::Global(Global::Date) => matches!(l, Val::Date(_)),
                Val::Global(Global::DateTime) => matches!(l, Val::DateTime(_)),
                Val::Global(Global::RegExp) => matches!(l, Val::Regex(_)),
                _ => false,
            }),
            BitAnd => Val::Num(f64::from(to_int32(l.to_number()) & to_int32(r.to_number()))),
            BitOr => Val::Num(f64::from(to_int32(l.to_number()) | to_int32(r.to_number()))),
            BitXor => Val::Num(f64::from(to_int32(l.to_number()) ^ to_int32(r.to_number()))),
            Shl => Val::Num(f64::from(
                to_int32(l.to_number()).wrapping_shl(to_int32(r.to_number()) as u32 & 31),
            )),
            Shr => Val::Num(f64::from(
                to_int32(l.to_number()) >> (to_int32(r.to_number()) as u32 & 31),
            )),
            UShr => Val::Num(f64::from(
                (to_int32(l.to_number()) as u32) >> (to_int32(r.to_number()) as u32 & 31),
            )),
        })
    }
}

fn short_circuits(op: LogOp, l: &Val) -> bool {
    match op {
        LogOp::And => !l.truthy(),
        LogOp::Or => l.truthy(),
        LogOp::Nullish => !l.is_nullish(),
    }
}

/// `ToInt32`.
pub fn to_int32(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    (n.trunc().rem_euclid(4_294_967_296.0) as u32) as i32
}

/// `**`: like `powf`, except `(±1) ** ±Infinity` and `x ** NaN` are NaN.
pub fn js_pow(a: f64, b: f64) -> f64 {
    if b.is_nan() || (a.abs() == 1.0 && b.is_infinite()) {
        f64::NAN
    } else {
        a.powf(b)
    }
}

/// JavaScript's `%`. Whole numbers within f64's exact integer range take the integer
/// remainder, which is exact and much cheaper than the floating-point one (the sign of a zero
/// result still follows the dividend, `-4 % 2` is `-0`); anything else is `fmod`.
fn js_rem(a: f64, b: f64) -> f64 {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if a.fract() == 0.0 && b.fract() == 0.0 && a.abs() < EXACT && b.abs() < EXACT && b != 0.0 {
        let r = (a as i64) % (b as i64);
        if r == 0 && a.is_sign_negative() {
            -0.0
        } else {
            r as f64
        }
    } else {
        a % b
    }
}
