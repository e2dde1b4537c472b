//! Values cross between QuickJS and Rust as values, not as JSON text.
//!
//! Printing items as JSON text in one runtime and parsing the text in the other builds, copies
//! and scans every value one more time than needed; on large outputs that was a large share of a
//! Code node's time. Here `serde_json` values become QuickJS values directly ([`to_js`]) and values
//! code returns are read directly into `serde_json` ([`from_js`]), with `JSON.stringify`'s rules,
//! which are what n8n's items go through: `undefined`, functions and symbols are dropped from
//! objects (and become `null` in arrays), `NaN` and `±Infinity` become `null`, objects with a
//! `toJSON` method (dates, luxon's `DateTime`) are read through it, integers stay integers, and
//! object keys keep JavaScript's order. A circular structure or one nested deeper than
//! [`MAX_DEPTH`] is an error, never a stack overflow.

use rquickjs::function::This;
use rquickjs::object::Property;
use rquickjs::{Atom, Ctx, Filter, Object, Type, Value};
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Deepest nesting of objects and arrays a value may have in either direction: what
/// `serde_json`'s parser accepts, so a value a Code node returns can be stored and read back.
pub const MAX_DEPTH: usize = 128;

/// Distinct object keys a [`Reader`] keeps as Rust strings: items share a few keys, and
/// reading a key from QuickJS costs two copies where a kept one costs one.
const KEPT_KEYS: usize = 4096;

/// Why a value could not cross.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the value nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("Converting circular structure to JSON: {0} closes the circle")]
    Circular(String),
    #[error("Do not know how to serialize a BigInt")]
    BigInt,
    /// QuickJS failed, or a getter or `toJSON` threw (the exception is pending on the context).
    #[error(transparent)]
    Js(#[from] rquickjs::Error),
}

/// A QuickJS value holding `value`. Objects get their keys as data properties in the map's
/// order (a `__proto__` key is an ordinary property, as `JSON.parse` makes it).
pub fn to_js<'js>(ctx: &Ctx<'js>, value: &Json) -> Result<Value<'js>, ConvertError> {
    json_to_js(ctx, value, 0)
}

/// A QuickJS object holding `map`'s entries.
pub fn object_to_js<'js, 'v>(
    ctx: &Ctx<'js>,
    fields: impl IntoIterator<Item = (&'v String, &'v Json)>,
) -> Result<Object<'js>, ConvertError> {
    fields_to_js(ctx, fields, 0)
}

fn json_to_js<'js>(ctx: &Ctx<'js>, value: &Json, depth: usize) -> Result<Value<'js>, ConvertError> {
    Ok(match value {
        Json::Null => Value::new_null(ctx.clone()),
        Json::Bool(b) => Value::new_bool(ctx.clone(), *b),
        Json::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(small) => Value::new_int(ctx.clone(), small),
            None => Value::new_float(ctx.clone(), n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        Json::Array(values) => {
            let depth = deeper(depth)?;
            let array = rquickjs::Array::new(ctx.clone())?;
            for (i, v) in values.iter().enumerate() {
                array.set(i, json_to_js(ctx, v, depth)?)?;
            }
            array.into_value()
        }
        Json::Object(map) => fields_to_js(ctx, map, depth)?.into_value(),
    })
}

fn fields_to_js<'js, 'v>(
    ctx: &Ctx<'js>,
    fields: impl IntoIterator<Item = (&'v String, &'v Json)>,
    depth: usize,
) -> Result<Object<'js>, ConvertError> {
    let depth = deeper(depth)?;
    let object = Object::new(ctx.clone())?;
    for (key, v) in fields {
        let v = json_to_js(ctx, v, depth)?;
        object.prop(
            key.as_str(),
            Property::from(v).writable().enumerable().configurable(),
        )?;
    }
    Ok(object)
}

fn deeper(depth: usize) -> Result<usize, ConvertError> {
    if depth >= MAX_DEPTH {
        Err(ConvertError::TooDeep)
    } else {
        Ok(depth + 1)
    }
}

/// `value` as `JSON.stringify` would print it, parsed; `None` where it prints nothing
/// (`undefined`, a function, a symbol).
pub fn from_js<'js>(value: Value<'js>) -> Result<Option<Json>, ConvertError> {
    Reader::new(value.ctx())?.read_value(value)
}

/// Reads values; the objects being read (the path from the root) catch circular structures.
/// One reader reading many values (a Code node's items) keeps their keys' Rust strings.
pub struct Reader<'js> {
    ctx: Ctx<'js>,
    to_json: Atom<'js>,
    ancestors: Vec<Value<'js>>,
    keys: HashMap<Atom<'js>, String>,
}

/// Where a value sits in its parent: the argument `toJSON` gets, and the name in error messages.
#[derive(Clone, Copy)]
enum Key<'a, 'js> {
    Root,
    Name(&'a Atom<'js>),
    Index(usize),
}

impl<'js> Key<'_, 'js> {
    fn to_js(self, ctx: &Ctx<'js>) -> Result<Value<'js>, ConvertError> {
        let text = match self {
            Key::Root => String::new(),
            Key::Name(name) => return Ok(name.to_value()?),
            Key::Index(i) => i.to_string(),
        };
        Ok(rquickjs::String::from_str(ctx.clone(), &text)?.into_value())
    }

    fn describe(self) -> String {
        match self {
            Key::Root => "the value itself".into(),
            Key::Name(name) => format!(
                "property '{}'",
                name.to_string().unwrap_or_else(|_| "?".into())
            ),
            Key::Index(i) => format!("index {i}"),
        }
    }
}

impl<'js> Reader<'js> {
    pub fn new(ctx: &Ctx<'js>) -> Result<Self, ConvertError> {
        Ok(Reader {
            ctx: ctx.clone(),
            to_json: Atom::from_str(ctx.clone(), "toJSON")?,
            ancestors: Vec::new(),
            keys: HashMap::new(),
        })
    }

    /// Like [`from_js`], keeping the keys it met for the next values.
    pub fn read_value(&mut self, value: Value<'js>) -> Result<Option<Json>, ConvertError> {
        self.read(value, Key::Root, true)
    }

    /// `key` as a Rust string.
    fn key_text(&mut self, key: Atom<'js>) -> Result<String, ConvertError> {
        if let Some(text) = self.keys.get(&key) {
            return Ok(text.clone());
        }
        let text = key.to_js_string()?.to_string()?;
        if self.keys.len() < KEPT_KEYS {
            self.keys.insert(key, text.clone());
        }
        Ok(text)
    }

    /// `call_to_json` is false for what a `toJSON` returned, which is not asked again.
    fn read(
        &mut self,
        value: Value<'js>,
        key: Key<'_, 'js>,
        call_to_json: bool,
    ) -> Result<Option<Json>, ConvertError> {
        Ok(Some(match value.type_of() {
            Type::Null => Json::Null,
            Type::Bool => Json::Bool(value.as_bool().unwrap_or_default()),
            Type::Int => Json::from(value.as_int().unwrap_or_default()),
            Type::Float => number_from_f64(value.as_float().unwrap_or(f64::NAN)),
            Type::String => Json::String(value.get::<String>()?),
            Type::BigInt => return Err(ConvertError::BigInt),
            Type::Array | Type::Object | Type::Exception | Type::Promise | Type::Proxy => {
                return self.read_object(value, key, call_to_json);
            }
            Type::Uninitialized
            | Type::Undefined
            | Type::Symbol
            | Type::Function
            | Type::Constructor
            | Type::Module
            | Type::Unknown => return Ok(None),
        }))
    }

    fn read_object(
        &mut self,
        value: Value<'js>,
        key: Key<'_, 'js>,
        call_to_json: bool,
    ) -> Result<Option<Json>, ConvertError> {
        let object = Object::from_value(value.clone())?;
        if call_to_json {
            let to_json: Value = object.get(self.to_json.clone())?;
            if let Some(to_json) = to_json.as_function() {
                let argument = key.to_js(&self.ctx)?;
                let result: Value = to_json.call((This(object), argument))?;
                return self.read(result, key, false);
            }
        }
        if self.ancestors.contains(&value) {
            return Err(ConvertError::Circular(key.describe()));
        }
        if self.ancestors.len() >= MAX_DEPTH {
            return Err(ConvertError::TooDeep);
        }
        self.ancestors.push(value.clone());
        let json = if value.is_array() {
            let len: usize = object.get("length")?;
            let mut values = Vec::with_capacity(len);
            for i in 0..len {
                let element: Value = object.get(i as u32)?;
                values.push(
                    self.read(element, Key::Index(i), true)?
                        .unwrap_or(Json::Null),
                );
            }
            Json::Array(values)
        } else {
            let mut map = Map::new();
            for entry in object.own_props::<Atom, Value>(Filter::default()) {
                let (name, element) = entry?;
                if let Some(v) = self.read(element, Key::Name(&name), true)? {
                    map.insert(self.key_text(name)?, v);
                }
            }
            Json::Object(map)
        };
        self.ancestors.pop();
        Ok(Some(json))
    }
}

/// A JavaScript number as `JSON.stringify` prints it, parsed: non-finite numbers are `null`,
/// integral ones below 1e21 (printed without exponent or fraction) are integers when they fit.
fn number_from_f64(f: f64) -> Json {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if !f.is_finite() {
        Json::Null
    } else if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
        Json::from(f as i64)
    } else if f.fract() == 0.0 && (0.0..TWO_POW_64).contains(&f) {
        Json::from(f as u64)
    } else {
        Json::from(f)
    }
}

#[cfg(test)]
mod tests;
