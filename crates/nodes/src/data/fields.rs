//! Writing an output value under a field name the way n8n's data nodes do: a dotted name such as
//! `result.hash` builds nested objects (lodash `set` semantics).

use sluice_model::{JsonObject, Value};

/// Set `value` at dotted `path` in `object`, creating (or replacing non-object) parents.
pub fn set_path(object: &mut JsonObject, path: &str, value: Value) {
    let mut target = object;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if keys.peek().is_none() {
            target.insert(key.to_string(), value);
            return;
        }
        let slot = target
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if !slot.is_object() {
            *slot = Value::Object(JsonObject::new());
        }
        target = slot.as_object_mut().expect("just made an object");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_names_nest() {
        let mut obj = JsonObject::new();
        set_path(&mut obj, "a.b", json!(1));
        set_path(&mut obj, "c", json!(2));
        assert_eq!(Value::Object(obj), json!({"a": {"b": 1}, "c": 2}));
    }
}
