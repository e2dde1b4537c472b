//! Runtime values and JavaScript's conversion rules (ToNumber, ToString, ToPrimitive, equality,
//! relational comparison, `typeof`).
//!
//! Item data is read by reference ([`Val::JsonObj`], [`Val::JsonArr`], borrowed strings), so a
//! path such as `$json.amount` never copies the item. Values created by the expression itself
//! (literals, method results) are reference-counted and shared like JavaScript objects.

use crate::ast::Global;
use crate::eval::Closure;
use crate::jsregex::JsRegex;
use crate::luxon::{self, DateTime};
use crate::numfmt::{js_number_to_string, string_to_number};
use serde_json::Value;
use sluice_model::{Item, JsonObject, ObjectRef};
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

/// A string that is either borrowed from item data or shared.
#[derive(Clone)]
pub enum JsStr<'a> {
    Borrowed(&'a str),
    Shared(Rc<str>),
}

impl Deref for JsStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            JsStr::Borrowed(s) => s,
            JsStr::Shared(s) => s,
        }
    }
}

impl fmt::Debug for JsStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for JsStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl From<String> for JsStr<'_> {
    fn from(s: String) -> Self {
        JsStr::Shared(Rc::from(s))
    }
}

impl From<&str> for JsStr<'_> {
    fn from(s: &str) -> Self {
        JsStr::Shared(Rc::from(s))
    }
}

impl From<Rc<str>> for JsStr<'_> {
    fn from(s: Rc<str>) -> Self {
        JsStr::Shared(s)
    }
}

/// An object created by the expression: keys in insertion order.
#[derive(Clone, Default, Debug)]
pub struct Obj<'a>(pub Vec<(JsStr<'a>, Val<'a>)>);

impl<'a> Obj<'a> {
    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        self.0.iter().find(|(k, _)| &**k == key).map(|(_, v)| v)
    }

    pub fn set(&mut self, key: JsStr<'a>, value: Val<'a>) {
        match self.0.iter_mut().find(|(k, _)| **k == *key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| &**k != key);
    }
}

pub type ArrRef<'a> = Rc<RefCell<Vec<Val<'a>>>>;
pub type ObjRef<'a> = Rc<RefCell<Obj<'a>>>;

/// A JavaScript value during evaluation.
#[derive(Clone)]
pub enum Val<'a> {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(JsStr<'a>),
    /// An object inside item data (read-only, borrowed).
    JsonObj(ObjectRef<'a>),
    /// An array inside item data (read-only, borrowed).
    JsonArr(&'a [Value]),
    Arr(ArrRef<'a>),
    Obj(ObjRef<'a>),
    /// A whole item (`$input.item`, `$('X').first()`): `.json`, `.binary`.
    Item(&'a Item),
    /// A JavaScript `Date` (milliseconds since the epoch; NaN when invalid).
    Date(f64),
    /// A luxon `DateTime`.
    DateTime(Rc<DateTime>),
    Regex(Arc<JsRegex>),
    Func(Rc<Closure<'a>>),
    /// A built-in namespace or function (`Math`, `parseInt`, `$input`, ...).
    Global(Global),
    /// `$('Node')`.
    NodeRef(JsStr<'a>),
    /// `$node['Node']` (legacy accessor).
    LegacyNode(JsStr<'a>),
}

impl fmt::Debug for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

pub fn str_val<'a>(s: impl Into<JsStr<'a>>) -> Val<'a> {
    Val::Str(s.into())
}

pub fn new_arr(items: Vec<Val<'_>>) -> Val<'_> {
    Val::Arr(Rc::new(RefCell::new(items)))
}

pub fn new_obj(obj: Obj<'_>) -> Val<'_> {
    Val::Obj(Rc::new(RefCell::new(obj)))
}

/// An object from `(key, value)` pairs with static keys.
pub fn obj_from<'a>(pairs: impl IntoIterator<Item = (&'static str, Val<'a>)>) -> Val<'a> {
    new_obj(Obj(pairs
        .into_iter()
        .map(|(k, v)| (JsStr::Borrowed(k), v))
        .collect()))
}

/// JSON number for a double: integral values within ±2^53 become integers; NaN/±∞ null.
pub use crate::json_js::number_to_json as num_to_json;

impl<'a> Val<'a> {
    pub fn from_json(v: &'a Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Val::Str(JsStr::Borrowed(s)),
            Value::Array(a) => Val::JsonArr(a),
            Value::Object(o) => Val::JsonObj(ObjectRef::Map(o)),
        }
    }

    /// A value built from owned JsonNs (e.g. `JSON.parse`).
    pub fn from_owned_json(v: Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => str_val(s),
            Value::Array(a) => new_arr(a.into_iter().map(Val::from_owned_json).collect()),
            Value::Object(o) => new_obj(Obj(o
                .into_iter()
                .map(|(k, v)| (JsStr::from(k), Val::from_owned_json(v)))
                .collect())),
        }
    }

    pub fn is_nullish(&self) -> bool {
        matches!(self, Val::Undefined | Val::Null)
    }

    /// True for arrays (borrowed or created).
    pub fn is_array(&self) -> bool {
        matches!(self, Val::JsonArr(_) | Val::Arr(_))
    }

    /// The elements of an array (shallow copy), or `None` for non-arrays.
    pub fn list(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::JsonArr(a) => Some(a.iter().map(Val::from_json).collect()),
            Val::Arr(a) => Some(a.borrow().clone()),
            _ => None,
        }
    }

    /// The own enumerable properties of an object (shallow copy), or `None`.
    pub fn entries(&self) -> Option<Vec<(JsStr<'a>, Val<'a>)>> {
        match self {
            Val::JsonObj(o) => Some(
                o.iter()
                    .map(|(k, v)| (JsStr::Borrowed(k.as_str()), Val::from_json(v)))
                    .collect(),
            ),
            Val::Obj(o) => Some(o.borrow().0.clone()),
            Val::Item(item) => Some(item_entries(item)),
            _ => None,
        }
    }

    /// Own property of an object or item; `None` when absent or not an object.
    pub fn own(&self, key: &str) -> Option<Val<'a>> {
        match self {
            Val::JsonObj(o) => o.get(key).map(Val::from_json),
            Val::Obj(o) => o.borrow().get(key).cloned(),
            Val::Item(item) => match key {
                "json" => Some(Val::JsonObj(ObjectRef::Item(&item.json))),
                "binary" => item
                    .binary
                    .as_deref()
                    .map(|b| Val::JsonObj(ObjectRef::Map(b))),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Val::Undefined | Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Str(s) => !s.is_empty(),
            _ => true,
        }
    }

    pub fn type_of(&self) -> &'static str {
        match self {
            Val::Undefined => "undefined",
            Val::Bool(_) => "boolean",
            Val::Num(_) => "number",
            Val::Str(_) => "string",
            Val::Func(_) => "function",
            Val::Global(g) if g.is_callable() => "function",
            _ => "object",
        }
    }

    /// ToPrimitive. `string_hint` is true for String() contexts; the default hint prefers
    /// `valueOf` except for `Date`.
    pub fn to_primitive(&self, string_hint: bool) -> Val<'a> {
        match self {
            Val::Date(ms) if !string_hint => Val::Num(*ms),
            Val::DateTime(dt) if !string_hint => Val::Num(dt.millis() as f64),
            Val::Undefined | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_) => self.clone(),
            other => Val::Str(other.to_str()),
        }
    }

    pub fn to_number(&self) -> f64 {
        match self {
            Val::Undefined => f64::NAN,
            Val::Null => 0.0,
            Val::Bool(b) => f64::from(u8::from(*b)),
            Val::Num(n) => *n,
            Val::Str(s) => string_to_number(s),
            Val::Date(ms) => *ms,
            Val::DateTime(dt) => dt.millis() as f64,
            other => string_to_number(&other.to_str()),
        }
    }

    /// ToString (`String(v)`); `null`/`undefined` give `"null"`/`"undefined"`.
    pub fn to_str(&self) -> JsStr<'a> {
        match self {
            Val::Str(s) => s.clone(),
            Val::Undefined => JsStr::Borrowed("undefined"),
            Val::Null => JsStr::Borrowed("null"),
            Val::Bool(true) => JsStr::Borrowed("true"),
            Val::Bool(false) => JsStr::Borrowed("false"),
            other => JsStr::from(other.display().into_owned()),
        }
    }

    /// String form of non-strings (numbers, objects, dates, ...).
    fn display(&self) -> Cow<'static, str> {
        match self {
            Val::Num(n) => Cow::Owned(js_number_to_string(*n)),
            Val::JsonObj(_) | Val::Obj(_) | Val::Item(_) | Val::NodeRef(_) | Val::LegacyNode(_) => {
                Cow::Borrowed("[object Object]")
            }
            Val::JsonArr(_) | Val::Arr(_) => Cow::Owned(self.join(",")),
            Val::Date(ms) => Cow::Owned(luxon::js_date_to_string(*ms)),
            Val::DateTime(dt) => Cow::Owned(dt.to_iso()),
            Val::Regex(r) => Cow::Owned(r.display()),
            Val::Func(_) => Cow::Borrowed("() => { [code] }"),
            Val::Global(g) if g.is_callable() => {
                Cow::Owned(format!("function {}() {{ [native code] }}", g.name()))
            }
            // Math and JSON carry their own tag; n8n's variables are plain objects.
            Val::Global(g @ (Global::Math | Global::JsonNs)) => {
                Cow::Owned(format!("[object {}]", g.name()))
            }
            Val::Global(_) => Cow::Borrowed("[object Object]"),
            Val::Undefined | Val::Null | Val::Bool(_) | Val::Str(_) => {
                Cow::Owned(self.to_str().to_string())
            }
        }
    }

    /// `Array.prototype.join`: nullish elements are empty.
    pub fn join(&self, sep: &str) -> String {
        let mut out = String::new();
        for (i, v) in self.list().unwrap_or_default().iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            if !v.is_nullish() {
                out.push_str(&v.to_str());
            }
        }
        out
    }

    /// Converts to JsonNs the way `JSON.stringify` sees values: `undefined` and functions are
    /// dropped from objects and become `null` elsewhere; dates become ISO strings. A value
    /// nested deeper than [`crate::MAX_NESTING`] (a circular one) is `null`.
    #[inline]
    pub fn to_json(&self) -> Value {
        match self {
            Val::Arr(_) | Val::Obj(_) => self
                .to_json_within(crate::MAX_NESTING)
                .unwrap_or(Value::Null),
            leaf => leaf.leaf_to_json(),
        }
    }

    /// Whether [`Val::to_json`] would give `value` itself, told without building it: the value
    /// was read from `value` and is unchanged (the same number, text, or object or array).
    pub fn is_unchanged(&self, value: &Value) -> bool {
        match (self, value) {
            (Val::Null, Value::Null) => true,
            (Val::Bool(a), Value::Bool(b)) => a == b,
            (Val::Num(n), Value::Number(_)) => num_to_json(*n) == *value,
            (Val::Str(s), Value::String(t)) => **s == **t,
            (Val::JsonObj(ObjectRef::Map(o)), Value::Object(m)) => std::ptr::eq(*o, m),
            (Val::JsonArr(a), Value::Array(b)) => std::ptr::eq(*a, b.as_slice()),
            _ => false,
        }
    }

    /// Whether the value is a function (an arrow function or a callable built-in): JSON has no
    /// such value (`null` in arrays and alone, left out of objects, nothing in text).
    pub fn is_function(&self) -> bool {
        match self {
            Val::Func(_) => true,
            Val::Global(g) => g.is_callable(),
            _ => false,
        }
    }

    /// Whether the value is, or holds in arrays and objects made by the expression, one of n8n's
    /// variable objects (`$input`, `$workflow`, `$node['X']`, `$('X')`, ...): the native
    /// evaluator reads their properties but has no value for the objects themselves.
    pub fn holds_n8n_object(&self) -> bool {
        self.holds_n8n_object_within(crate::MAX_NESTING)
    }

    fn holds_n8n_object_within(&self, depth: usize) -> bool {
        let Some(depth) = depth.checked_sub(1) else {
            return false;
        };
        match self {
            Val::LegacyNode(_) | Val::NodeRef(_) => true,
            Val::Global(g) => !g.is_callable() && !matches!(g, Global::Math | Global::JsonNs),
            Val::Arr(a) => a.borrow().iter().any(|v| v.holds_n8n_object_within(depth)),
            Val::Obj(o) => o
                .borrow()
                .0
                .iter()
                .any(|(_, v)| v.holds_n8n_object_within(depth)),
            _ => false,
        }
    }

    /// [`Val::to_json`] for values nested at most `depth` levels; `None` past that.
    pub fn to_json_within(&self, depth: usize) -> Option<Value> {
        let depth = depth.checked_sub(1)?;
        Some(match self {
            Val::Arr(a) => Value::Array(
                a.borrow()
                    .iter()
                    .map(|v| v.to_json_within(depth))
                    .collect::<Option<_>>()?,
            ),
            Val::Obj(o) => Value::Object(
                o.borrow()
                    .0
                    .iter()
                    .filter(|(_, v)| !matches!(v, Val::Undefined) && !v.is_function())
                    .map(|(k, v)| Some((k.to_string(), v.to_json_within(depth)?)))
                    .collect::<Option<_>>()?,
            ),
            leaf => leaf.leaf_to_json(),
        })
    }

    /// [`Val::to_json`] for a value that holds no values the expression made: no depth to
    /// watch, and no `Option` to move for the commonest results (numbers, booleans, strings).
    /// Arrays and objects the expression made go through [`Val::to_json_within`].
    fn leaf_to_json(&self) -> Value {
        match self {
            Val::Undefined | Val::Null | Val::Func(_) => Value::Null,
            Val::Global(g) if g.is_callable() => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => num_to_json(*n),
            Val::Str(s) => Value::String(s.to_string()),
            Val::JsonObj(o) => Value::Object(o.to_map()),
            Val::JsonArr(a) => Value::Array(a.to_vec()),
            Val::Arr(_) | Val::Obj(_) => self.to_json(),
            Val::Item(item) => serde_json::to_value(item).unwrap_or(Value::Null),
            Val::Date(ms) => luxon::js_date_to_iso(*ms).map_or(Value::Null, Value::String),
            Val::DateTime(dt) => Value::String(dt.to_iso()),
            Val::Regex(_) | Val::Global(_) | Val::NodeRef(_) | Val::LegacyNode(_) => {
                Value::Object(JsonObject::new())
            }
        }
    }

    /// The identity of an object value, for `===` between objects.
    fn identity(&self) -> Option<usize> {
        Some(match self {
            Val::JsonObj(o) => o.addr(),
            Val::JsonArr(a) => a.as_ptr() as usize,
            Val::Arr(a) => Rc::as_ptr(a) as *const u8 as usize,
            Val::Obj(o) => Rc::as_ptr(o) as *const u8 as usize,
            Val::Item(i) => *i as *const Item as usize,
            Val::DateTime(d) => Rc::as_ptr(d) as usize,
            Val::Regex(r) => Arc::as_ptr(r) as usize,
            Val::Func(f) => Rc::as_ptr(f) as *const u8 as usize,
            _ => return None,
        })
    }

    /// `===`.
    pub fn strict_eq(&self, other: &Val<'a>) -> bool {
        match (self, other) {
            (Val::Undefined, Val::Undefined) | (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Num(a), Val::Num(b)) => a == b,
            (Val::Str(a), Val::Str(b)) => **a == **b,
            (Val::Global(a), Val::Global(b)) => a == b,
            (Val::NodeRef(a), Val::NodeRef(b)) => **a == **b,
            // Two `Date`s are distinct objects unless they are the same one; we cannot tell.
            (Val::Date(_), Val::Date(_)) => false,
            (a, b) => match (a.identity(), b.identity()) {
                (Some(x), Some(y)) => {
                    x == y && std::mem::discriminant(a) == std::mem::discriminant(b)
                }
                _ => false,
            },
        }
    }

    /// SameValueZero (`includes`, `indexOf` use strict equality; `includes` also finds NaN).
    pub fn same_value_zero(&self, other: &Val<'a>) -> bool {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) if a.is_nan() && b.is_nan() => true,
            _ => self.strict_eq(other),
        }
    }

    fn is_object(&self) -> bool {
        !matches!(
            self,
            Val::Undefined | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_)
        )
    }

    /// `==` (abstract equality).
    pub fn loose_eq(&self, other: &Val<'a>) -> bool {
        match (self, other) {
            (a, b) if a.is_nullish() || b.is_nullish() => a.is_nullish() && b.is_nullish(),
            (Val::Num(_), Val::Str(_)) | (Val::Str(_), Val::Num(_)) => {
                self.to_number() == other.to_number()
            }
            (Val::Bool(_), _) => Val::Num(self.to_number()).loose_eq(other),
            (_, Val::Bool(_)) => self.loose_eq(&Val::Num(other.to_number())),
            (a, b) if a.is_object() && !b.is_object() => a.to_primitive(false).loose_eq(b),
            (a, b) if !a.is_object() && b.is_object() => a.loose_eq(&b.to_primitive(false)),
            _ => self.strict_eq(other),
        }
    }

    /// Abstract relational comparison; `None` when a NaN is involved (all comparisons false).
    pub fn compare(&self, other: &Val<'a>) -> Option<Ordering> {
        let a = self.to_primitive(false);
        let b = other.to_primitive(false);
        if let (Val::Str(x), Val::Str(y)) = (&a, &b) {
            return Some(compare_utf16(x, y));
        }
        a.to_number().partial_cmp(&b.to_number())
    }
}

/// Compares strings by UTF-16 code units, as JavaScript does.
pub fn compare_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Length in UTF-16 code units (`String.prototype.length`).
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

fn item_entries<'a>(item: &'a Item) -> Vec<(JsStr<'a>, Val<'a>)> {
    let mut out = vec![(
        JsStr::Borrowed("json"),
        Val::JsonObj(ObjectRef::Item(&item.json)),
    )];
    if let Some(b) = &item.binary {
        out.push((JsStr::Borrowed("binary"), Val::JsonObj(ObjectRef::Map(b))));
    }
    out
}

impl Global {
    /// True for globals that can be called (`parseInt`, `Number`, `$if`, ...).
    pub fn is_callable(self) -> bool {
        use Global::*;
        matches!(
            self,
            Dollar
                | Items
                | If
                | IfEmpty
                | Min
                | Max
                | Average
                | Not
                | Jmespath
                | Object
                | Array
                | Number
                | String
                | Boolean
                | Date
                | DateTime
                | Duration
                | RegExp
                | ParseInt
                | ParseFloat
                | IsNaN
                | IsFinite
                | EncodeURIComponent
                | DecodeURIComponent
                | EncodeURI
                | DecodeURI
                | Btoa
                | Atob
        )
    }
}
