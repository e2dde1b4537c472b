//! Property paths on item JSON.
//!
//! Lodash-style paths (`a.b[0].c`, `a["b.c"]`) are n8n's "dot notation" for field names: Edit
//! Fields writes through them, Merge, Compare Datasets and the item-list transforms read and
//! write fields with them. A path that names an existing top-level key verbatim (`"a.b"` when
//! the object has `a.b`) is used as that key, as lodash does.
//!
//! A name known when the node is built (a literal field name) is parsed once into a
//! [`FieldPath`], so writing it into every item does not parse it again.
//!
//! [`set_dotted`] is the simpler rule the data nodes (Crypto, Date & Time, Markdown) use for
//! their output field: split on `.` only, no brackets, no verbatim keys.

use sluice_model::{Fields, JsonObject, Value};

/// Split a path into its keys: `a.b[0]["c.d"]` gives `a`, `b`, `0`, `c.d`.
fn keys(path: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = path;
    if let Some(r) = rest.strip_prefix('.') {
        keys.push(String::new());
        rest = r;
    }
    loop {
        if let Some(inner) = rest.strip_prefix('[') {
            let (key, after) = bracket_key(inner);
            keys.push(key);
            rest = after;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            keys.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        match rest.strip_prefix('.') {
            Some("") => {
                keys.push(String::new());
                return keys;
            }
            Some(r) => rest = r,
            None if rest.is_empty() => return keys,
            None => {} // another `[`
        }
    }
}

/// The key inside `[...]` (quoted or not) and the text after the closing bracket.
fn bracket_key(inner: &str) -> (String, &str) {
    let mut chars = inner.char_indices();
    if let Some(quote @ ('"' | '\'')) = inner.chars().next() {
        chars.next();
        let mut key = String::new();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                key.extend(chars.next().map(|(_, c)| c));
            } else if c == quote && inner[i + 1..].starts_with(']') {
                return (key, &inner[i + 2..]);
            } else {
                key.push(c);
            }
        }
        return (key, "");
    }
    match inner.find(']') {
        Some(end) => (inner[..end].to_string(), &inner[end + 1..]),
        None => (inner.to_string(), ""),
    }
}

fn is_plain(path: &str) -> bool {
    !path.contains(['.', '['])
}

fn as_index(key: &str) -> Option<usize> {
    (key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit())))
        .then(|| key.parse().ok())
        .flatten()
}

/// A field name parsed once: one key, or the keys of a lodash path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldPath {
    name: String,
    /// The path's keys; `None` when the name is always one key (it has no `.` or `[`, or dot
    /// notation is off).
    keys: Option<Vec<String>>,
}

impl FieldPath {
    /// `name` as a path when `dot_notation`, else as one key.
    pub fn new(name: &str, dot_notation: bool) -> Self {
        FieldPath {
            name: name.to_string(),
            keys: (dot_notation && !is_plain(name)).then(|| keys(name)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value at this path, if any (a verbatim key first).
    pub fn read<'v, O: Fields + ?Sized>(&self, object: &'v O) -> Option<&'v Value> {
        match (object.get(&self.name), &self.keys) {
            (Some(value), _) => Some(value),
            (None, Some(keys)) => get_keys(object, keys),
            (None, None) => None,
        }
    }

    /// Write `value` at this path, as [`set`] does (one key: as [`write`] without dot notation).
    pub fn write<O: Fields + ?Sized>(&self, object: &mut O, value: Value) {
        match &self.keys {
            Some(keys) if !object.contains_key(&self.name) => set_keys(object, keys, value),
            _ => {
                object.insert(self.name.clone(), value);
            }
        }
    }

    /// Remove the value at this path, as [`unset`] does.
    pub fn unset<O: Fields + ?Sized>(&self, object: &mut O) {
        if object.shift_remove(&self.name).is_none() {
            if let Some(keys) = &self.keys {
                unset_keys(object, keys);
            }
        }
    }
}

/// The value at `path`, if any.
pub(crate) fn get<'v, O: Fields + ?Sized>(object: &'v O, path: &str) -> Option<&'v Value> {
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    if is_plain(path) {
        return None;
    }
    get_keys(object, &keys(path))
}

fn get_keys<'v, O: Fields + ?Sized>(object: &'v O, keys: &[String]) -> Option<&'v Value> {
    let (first, rest) = keys.split_first()?;
    rest.iter()
        .try_fold(object.get(first)?, |value, key| match value {
            Value::Object(map) => map.get(key),
            Value::Array(items) => items.get(as_index(key)?),
            _ => None,
        })
}

/// Write `value` at `path`, creating objects (or arrays before numeric keys) on the way and
/// replacing non-container values that stand in the way.
pub(crate) fn set<O: Fields + ?Sized>(object: &mut O, path: &str, value: Value) {
    if is_plain(path) || object.contains_key(path) {
        object.insert(path.to_string(), value);
        return;
    }
    set_keys(object, &keys(path), value);
}

fn set_keys<O: Fields + ?Sized>(object: &mut O, keys: &[String], value: Value) {
    let (first, rest) = keys.split_first().expect("a path has at least one key");
    match rest.is_empty() {
        true => {
            object.insert(first.clone(), value);
        }
        false => {
            let slot = object.get_or_insert_null(first);
            set_in(slot, rest, value);
        }
    }
}

fn set_in(slot: &mut Value, keys: &[String], value: Value) {
    let (key, rest) = keys.split_first().expect("non-empty");
    if !slot.is_object() && !slot.is_array() {
        *slot = match as_index(key) {
            Some(_) => Value::Array(Vec::new()),
            None => Value::Object(JsonObject::new()),
        };
    }
    let child = match slot {
        Value::Object(map) => map.entry(key.clone()).or_insert(Value::Null),
        Value::Array(items) => match as_index(key) {
            Some(i) => {
                if items.len() <= i {
                    items.resize(i + 1, Value::Null);
                }
                &mut items[i]
            }
            // A named property on an array does not survive JSON serialisation.
            None => return,
        },
        _ => unreachable!("made a container above"),
    };
    match rest.is_empty() {
        true => *child = value,
        false => set_in(child, rest, value),
    }
}

/// Remove the value at `path` (a removed array element leaves `null`, like a JavaScript hole).
pub(crate) fn unset<O: Fields + ?Sized>(object: &mut O, path: &str) {
    if object.shift_remove(path).is_some() || is_plain(path) {
        return;
    }
    unset_keys(object, &keys(path));
}

fn unset_keys<O: Fields + ?Sized>(object: &mut O, keys: &[String]) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let Some((first, middle)) = parents.split_first() else {
        object.shift_remove(last);
        return;
    };
    let parent = middle
        .iter()
        .try_fold(object.get_mut(first), |value, key| match value? {
            Value::Object(map) => Some(map.get_mut(key)),
            Value::Array(items) => Some(items.get_mut(as_index(key)?)),
            _ => None,
        })
        .flatten();
    match parent {
        Some(Value::Object(map)) => {
            map.shift_remove(last);
        }
        Some(Value::Array(items)) => {
            if let Some(item) = as_index(last).and_then(|i| items.get_mut(i)) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

/// Read a field by name: through the path when `dot_notation`, else as one literal key.
pub(crate) fn read<'v, O: Fields + ?Sized>(
    object: &'v O,
    name: &str,
    dot_notation: bool,
) -> Option<&'v Value> {
    match dot_notation {
        true => get(object, name),
        false => object.get(name),
    }
}

/// Write a field by name: through the path when `dot_notation`, else as one literal key.
pub(crate) fn write<O: Fields + ?Sized>(
    object: &mut O,
    name: &str,
    value: Value,
    dot_notation: bool,
) {
    match dot_notation {
        true => set(object, name, value),
        false => {
            object.insert(name.to_string(), value);
        }
    }
}

/// Set `value` at dotted `path` in `object`, creating (or replacing non-object) parents.
/// Unlike [`set`], `[` and existing verbatim keys have no special meaning.
pub(crate) fn set_dotted<O: Fields + ?Sized>(object: &mut O, path: &str, value: Value) {
    let (parents, last) = match path.rsplit_once('.') {
        Some((parents, last)) => (Some(parents), last),
        None => (None, path),
    };
    let Some(parents) = parents else {
        object.insert(last.to_string(), value);
        return;
    };
    let mut keys = parents.split('.');
    let first = keys.next().expect("split yields at least one key");
    let mut target = object_at(object.get_or_insert_null(first));
    for key in keys {
        target = object_at(target.entry(key).or_insert(Value::Null));
    }
    target.insert(last.to_string(), value);
}

/// The object at `slot`, replacing whatever else is there with an empty one.
fn object_at(slot: &mut Value) -> &mut JsonObject {
    if !slot.is_object() {
        *slot = Value::Object(JsonObject::new());
    }
    slot.as_object_mut().expect("just made an object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> JsonObject {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn dotted_names_nest() {
        let mut o = JsonObject::new();
        set_dotted(&mut o, "a.b", json!(1));
        set_dotted(&mut o, "c", json!(2));
        set_dotted(&mut o, "d[0]", json!(3));
        assert_eq!(Value::Object(o), json!({"a": {"b": 1}, "c": 2, "d[0]": 3}));
    }

    #[test]
    fn parses_paths() {
        assert_eq!(keys("a.b[0].c"), ["a", "b", "0", "c"]);
        assert_eq!(keys("a[\"b.c\"][1]"), ["a", "b.c", "1"]);
        assert_eq!(keys("list[1]"), ["list", "1"]);
        assert_eq!(keys(".a"), ["", "a"]);
    }

    #[test]
    fn set_builds_nested_objects_and_arrays() {
        let mut o = obj(json!({"list": ["foo"], "n": 1}));
        set(&mut o, "list[2]", json!(true));
        set(&mut o, "a.b", json!(1));
        set(&mut o, "n.x", json!(2));
        set(&mut o, "c[1].d", json!(3));
        assert_eq!(
            Value::Object(o),
            json!({"list": ["foo", null, true], "n": {"x": 2}, "a": {"b": 1}, "c": [null, {"d": 3}]})
        );
    }

    #[test]
    fn verbatim_keys_win() {
        let mut o = obj(json!({"a.b": 1}));
        set(&mut o, "a.b", json!(2));
        assert_eq!(get(&o, "a.b"), Some(&json!(2)));
        unset(&mut o, "a.b");
        assert!(o.is_empty());
    }

    #[test]
    fn field_paths_parsed_once_behave_as_paths_parsed_per_call() {
        let input = obj(json!({"a.b": 1, "a": {"c": [1, {"d": 2}]}, "n": 1}));
        for name in [
            "a.b",
            "a.c[1].d",
            "a.x",
            "n",
            "n.x",
            "list[2]",
            "e[\"f.g\"]",
            "z",
        ] {
            for dot_notation in [true, false] {
                let path = FieldPath::new(name, dot_notation);
                assert_eq!(
                    path.read(&input),
                    read(&input, name, dot_notation),
                    "{name}"
                );
                let (mut by_path, mut by_name) = (input.clone(), input.clone());
                path.write(&mut by_path, json!(9));
                write(&mut by_name, name, json!(9), dot_notation);
                assert_eq!(by_path, by_name, "{name}");
                let (mut by_path, mut by_name) = (input.clone(), input.clone());
                path.unset(&mut by_path);
                match dot_notation {
                    true => unset(&mut by_name, name),
                    false => {
                        by_name.shift_remove(name);
                    }
                }
                assert_eq!(by_path, by_name, "{name}");
            }
        }
    }

    #[test]
    fn get_and_unset_nested() {
        let mut o = obj(json!({"a": {"b": [1, {"c": 2}]}}));
        assert_eq!(get(&o, "a.b[1].c"), Some(&json!(2)));
        assert_eq!(get(&o, "a.x.y"), None);
        unset(&mut o, "a.b[1].c");
        unset(&mut o, "missing.path");
        assert_eq!(Value::Object(o), json!({"a": {"b": [1, {}]}}));
    }
}
