//! An item's `json` object with its keys stored once per shape.
//!
//! The items of one list nearly always have the same keys in the same order (`{id, amount,
//! status}` for every order), yet a `serde_json::Map` stores them per item: a hash index, a
//! `String` per key and a 104-byte entry per field, ~480 bytes for three fields. [`ItemJson`]
//! keeps the keys in a [`Shape`] shared by every object that has them, and only the values per
//! object: ~280 bytes for the same item. Shapes are reached by adding keys one at a time from an
//! empty root (each shape remembers the shapes one key longer), so objects built or parsed the
//! same way meet the same shape without a global table. Objects with many keys get a shape of
//! their own that is changed in place.
//!
//! Behaviour follows `serde_json::Map` with `preserve_order` (insertion order, `insert` of an
//! existing key keeping its position, `shift_remove` keeping the others' order, equality
//! ignoring order), so code reading or writing fields reads the same as with a map.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};

/// Shapes up to this many keys are shared; longer objects get a shape of their own.
const SHARED_KEYS_MAX: usize = 32;
/// Distinct next keys a shape remembers (more are keys that are data, not a schema).
const NEXT_SHAPES_MAX: usize = 32;
/// Lookups scan shapes up to this many keys; longer ones build a hash index once.
const SCAN_KEYS_MAX: usize = 8;

/// The keys of an object, in insertion order.
struct Shape {
    keys: Vec<String>,
    /// Each key's position, built on the first lookup of a shape too long to scan.
    index: OnceLock<HashMap<String, usize>>,
    /// The shapes one key longer that objects of this shape grew into (shared shapes only).
    next: Mutex<Vec<(Box<str>, Weak<Shape>)>>,
    /// The shape one key shorter, kept alive so the next object built the same way finds this
    /// one again (shared shapes only).
    _previous: Option<Arc<Shape>>,
    /// Reached from the root and shared; a shape of its own is changed in place instead.
    shared: bool,
}

static ROOT: LazyLock<Arc<Shape>> = LazyLock::new(|| {
    Arc::new(Shape {
        shared: true,
        ..Shape::own(Vec::new())
    })
});

impl Shape {
    /// A shape of one object's own.
    fn own(keys: Vec<String>) -> Self {
        Shape {
            keys,
            index: OnceLock::new(),
            next: Mutex::new(Vec::new()),
            _previous: None,
            shared: false,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        if self.keys.len() <= SCAN_KEYS_MAX {
            return self.keys.iter().position(|k| k == key);
        }
        self.index
            .get_or_init(|| {
                let mut index = HashMap::with_capacity(self.keys.len());
                for (i, k) in self.keys.iter().enumerate() {
                    index.entry(k.clone()).or_insert(i);
                }
                index
            })
            .get(key)
            .copied()
    }

    /// The shared shape with `key` added after this one's keys, if it can be shared.
    fn shared_next(self: &Arc<Self>, key: &str) -> Option<Arc<Shape>> {
        if !self.shared || self.keys.len() >= SHARED_KEYS_MAX {
            return None;
        }
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, shape)) = next.iter().find(|(k, _)| &**k == key) {
            if let Some(shape) = shape.upgrade() {
                return Some(shape);
            }
        }
        next.retain(|(_, shape)| shape.strong_count() > 0);
        if next.len() >= NEXT_SHAPES_MAX {
            // Keys that are data rather than a schema: forget the oldest. Objects of that shape
            // keep it; the next object with its keys starts a new one.
            next.remove(0);
        }
        let mut keys = Vec::with_capacity(self.keys.len() + 1);
        keys.extend(self.keys.iter().cloned());
        keys.push(key.to_owned());
        let shape = Arc::new(Shape {
            shared: true,
            _previous: Some(self.clone()),
            ..Shape::own(keys)
        });
        next.push((key.into(), Arc::downgrade(&shape)));
        Some(shape)
    }

    /// The shape holding exactly `keys` in order: shared when it can be, else its own.
    fn of_keys<'k>(keys: impl Iterator<Item = &'k str> + Clone) -> Arc<Shape> {
        let mut shape = ROOT.clone();
        for key in keys.clone() {
            match shape.shared_next(key) {
                Some(next) => shape = next,
                None => {
                    return Arc::new(Shape::own(keys.map(str::to_owned).collect()));
                }
            }
        }
        shape
    }
}

/// An item's JSON object: its values, with their keys in a shape shared between objects.
pub struct ItemJson {
    shape: Arc<Shape>,
    values: Vec<Value>,
}

impl ItemJson {
    pub fn new() -> Self {
        ItemJson {
            shape: ROOT.clone(),
            values: Vec::new(),
        }
    }

    /// An empty object with room for `capacity` fields.
    pub fn with_capacity(capacity: usize) -> Self {
        ItemJson {
            shape: ROOT.clone(),
            values: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A copy with room for `additional` more fields (a copy grown by one field would double
    /// its room).
    pub fn clone_with_room(&self, additional: usize) -> ItemJson {
        let mut values = Vec::with_capacity(self.values.len() + additional);
        values.extend(self.values.iter().cloned());
        ItemJson {
            shape: self.shape.clone(),
            values,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.shape.position(key).map(|i| &self.values[i])
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.shape.position(key).map(|i| &mut self.values[i])
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.shape.position(key).is_some()
    }

    /// Sets `key` to `value`; an existing key keeps its position and its old value is returned.
    pub fn insert<K: AsRef<str> + Into<String>>(&mut self, key: K, value: Value) -> Option<Value> {
        if let Some(i) = self.shape.position(key.as_ref()) {
            return Some(std::mem::replace(&mut self.values[i], value));
        }
        self.push_key(key);
        self.values.push(value);
        None
    }

    /// Adds a key known to be absent to the shape.
    fn push_key<K: AsRef<str> + Into<String>>(&mut self, key: K) {
        if let Some(next) = self.shape.shared_next(key.as_ref()) {
            self.shape = next;
            return;
        }
        if self.shape.shared {
            let mut keys = Vec::with_capacity(self.shape.keys.len() + 1);
            keys.extend(self.shape.keys.iter().cloned());
            self.shape = Arc::new(Shape::own(keys));
        }
        let shape = match Arc::get_mut(&mut self.shape) {
            Some(own) => own,
            None => {
                // Shared with a copy of this object: this one takes a copy of the keys.
                self.shape = Arc::new(Shape::own(self.shape.keys.clone()));
                Arc::get_mut(&mut self.shape).expect("a new shape has one owner")
            }
        };
        let key = key.into();
        if let Some(index) = shape.index.get_mut() {
            index.entry(key.clone()).or_insert(shape.keys.len());
        }
        shape.keys.push(key);
    }

    /// Removes `key`, keeping the order of the other fields (JavaScript's `delete`).
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        let i = self.shape.position(key)?;
        let value = self.values.remove(i);
        let keys = &self.shape.keys;
        let order = (0..keys.len()).filter(|&k| k != i);
        self.shape = Shape::of_keys(order.map(|k| keys[k].as_str()));
        Some(value)
    }

    pub fn iter(&self) -> Iter<'_> {
        self.shape.keys.iter().zip(self.values.iter())
    }

    pub fn keys(&self) -> std::slice::Iter<'_, String> {
        self.shape.keys.iter()
    }

    pub fn values(&self) -> std::slice::Iter<'_, Value> {
        self.values.iter()
    }

    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, Value> {
        self.values.iter_mut()
    }

    /// True when both objects hold their keys in one shape (what makes items cheap: checked by
    /// the tests of the nodes that build items).
    pub fn shares_keys_with(&self, other: &ItemJson) -> bool {
        Arc::ptr_eq(&self.shape, &other.shape)
    }

    /// The object as a `serde_json::Map` (keys and values copied).
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The object as a JSON value (keys and values copied).
    pub fn to_value(&self) -> Value {
        Value::Object(self.to_map())
    }
}

pub type Iter<'a> = std::iter::Zip<std::slice::Iter<'a, String>, std::slice::Iter<'a, Value>>;

impl Default for ItemJson {
    fn default() -> Self {
        ItemJson::new()
    }
}

impl Clone for ItemJson {
    fn clone(&self) -> Self {
        ItemJson {
            shape: self.shape.clone(),
            values: self.values.clone(),
        }
    }
}

impl PartialEq for ItemJson {
    fn eq(&self, other: &Self) -> bool {
        if Arc::ptr_eq(&self.shape, &other.shape) {
            return self.values == other.values;
        }
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl fmt::Debug for ItemJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for ItemJson {
    type Output = Value;
    /// The value at `key`, or `null` when there is none (as indexing a `serde_json::Value`).
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl From<Map<String, Value>> for ItemJson {
    fn from(map: Map<String, Value>) -> Self {
        let shape = Shape::of_keys(map.keys().map(String::as_str));
        let mut values = Vec::with_capacity(map.len());
        values.extend(map.into_iter().map(|(_, v)| v));
        ItemJson { shape, values }
    }
}

impl From<ItemJson> for Map<String, Value> {
    fn from(object: ItemJson) -> Self {
        let ItemJson { shape, values } = object;
        shape.keys.iter().cloned().zip(values).collect()
    }
}

impl From<ItemJson> for Value {
    fn from(object: ItemJson) -> Self {
        Value::Object(object.into())
    }
}

impl<K: AsRef<str> + Into<String>> FromIterator<(K, Value)> for ItemJson {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut object = ItemJson::new();
        object.extend(iter);
        object
    }
}

impl<K: AsRef<str> + Into<String>> Extend<(K, Value)> for ItemJson {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.values.reserve(iter.size_hint().0);
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a ItemJson {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for ItemJson {
    type Item = (String, Value);
    type IntoIter = std::iter::Zip<std::vec::IntoIter<String>, std::vec::IntoIter<Value>>;
    fn into_iter(self) -> Self::IntoIter {
        let keys = match Arc::try_unwrap(self.shape) {
            Ok(shape) => shape.keys,
            Err(shape) => shape.keys.clone(),
        };
        keys.into_iter().zip(self.values)
    }
}

impl Serialize for ItemJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ItemJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = ItemJson;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ItemJson, A::Error> {
        let mut object = ItemJson::with_capacity(access.size_hint().unwrap_or(0));
        while let Some(existing) = access.next_key_seed(KeySeed(&mut object))? {
            let value = access.next_value()?;
            match existing {
                Some(i) => object.values[i] = value,
                None => object.values.push(value),
            }
        }
        // Values are the bulk of an object: keep no spare room past the last field.
        if object.values.capacity() > object.values.len() {
            let mut exact = Vec::with_capacity(object.values.len());
            exact.append(&mut object.values);
            object.values = exact;
        }
        Ok(object)
    }
}

/// Reads a key straight into the object's shape (no `String` when the shape already has it):
/// the position of a key met before, or `None` when it was added and its value is to follow.
struct KeySeed<'o>(&'o mut ItemJson);

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<Option<usize>, E> {
        let found = self.0.shape.position(key);
        if found.is_none() {
            self.0.push_key(key);
        }
        Ok(found)
    }
    fn visit_string<E>(self, key: String) -> Result<Option<usize>, E> {
        let found = self.0.shape.position(&key);
        if found.is_none() {
            self.0.push_key(key);
        }
        Ok(found)
    }
}

/// Field access common to an item's `json` and a `serde_json::Map` nested in a value, for code
/// that reads or writes fields of either (paths such as `a.b[0]` start in one and go on in the
/// other).
pub trait Fields {
    fn get(&self, key: &str) -> Option<&Value>;
    fn get_mut(&mut self, key: &str) -> Option<&mut Value>;
    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Sets `key`; an existing key keeps its position.
    fn insert(&mut self, key: String, value: Value) -> Option<Value>;
    /// Removes `key`, keeping the order of the other fields.
    fn shift_remove(&mut self, key: &str) -> Option<Value>;
    /// The value at `key`, set to `null` first when there is none.
    fn get_or_insert_null(&mut self, key: &str) -> &mut Value;
}

impl Fields for ItemJson {
    fn get(&self, key: &str) -> Option<&Value> {
        ItemJson::get(self, key)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        ItemJson::get_mut(self, key)
    }
    fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        ItemJson::insert(self, key, value)
    }
    fn shift_remove(&mut self, key: &str) -> Option<Value> {
        ItemJson::shift_remove(self, key)
    }
    fn get_or_insert_null(&mut self, key: &str) -> &mut Value {
        let i = match self.shape.position(key) {
            Some(i) => i,
            None => {
                self.push_key(key);
                self.values.push(Value::Null);
                self.values.len() - 1
            }
        };
        &mut self.values[i]
    }
}

impl Fields for Map<String, Value> {
    fn get(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        Map::get_mut(self, key)
    }
    fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        Map::insert(self, key, value)
    }
    fn shift_remove(&mut self, key: &str) -> Option<Value> {
        Map::shift_remove(self, key)
    }
    fn get_or_insert_null(&mut self, key: &str) -> &mut Value {
        self.entry(key).or_insert(Value::Null)
    }
}

/// A shared object's fields; writing copies it first if another holder shares it.
impl<T: Fields + Clone> Fields for Arc<T> {
    fn get(&self, key: &str) -> Option<&Value> {
        (**self).get(key)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        Arc::make_mut(self).get_mut(key)
    }
    fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        Arc::make_mut(self).insert(key, value)
    }
    fn shift_remove(&mut self, key: &str) -> Option<Value> {
        Arc::make_mut(self).shift_remove(key)
    }
    fn get_or_insert_null(&mut self, key: &str) -> &mut Value {
        Arc::make_mut(self).get_or_insert_null(key)
    }
}

/// A JSON object read by reference: an item's `json` or an object nested in a value.
#[derive(Clone, Copy, Debug)]
pub enum ObjectRef<'a> {
    Item(&'a ItemJson),
    Map(&'a Map<String, Value>),
}

impl<'a> ObjectRef<'a> {
    pub fn get(self, key: &str) -> Option<&'a Value> {
        match self {
            ObjectRef::Item(o) => o.get(key),
            ObjectRef::Map(m) => m.get(key),
        }
    }

    pub fn len(self) -> usize {
        match self {
            ObjectRef::Item(o) => o.len(),
            ObjectRef::Map(m) => m.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The fields in order (no allocation: `Object.keys($json)` runs per item).
    pub fn iter(self) -> ObjectIter<'a> {
        match self {
            ObjectRef::Item(o) => ObjectIter::OfItem(o.iter()),
            ObjectRef::Map(m) => ObjectIter::OfMap(m.iter()),
        }
    }

    /// The object as a `serde_json::Map` (copied).
    pub fn to_map(self) -> Map<String, Value> {
        match self {
            ObjectRef::Item(o) => o.to_map(),
            ObjectRef::Map(m) => m.clone(),
        }
    }

    /// The address of the object, for identity checks (JavaScript's `===` on objects).
    pub fn addr(self) -> usize {
        match self {
            ObjectRef::Item(o) => o as *const ItemJson as usize,
            ObjectRef::Map(m) => m as *const Map<String, Value> as usize,
        }
    }
}

/// The fields of an [`ObjectRef`], in order.
pub enum ObjectIter<'a> {
    OfItem(Iter<'a>),
    OfMap(serde_json::map::Iter<'a>),
}

impl<'a> Iterator for ObjectIter<'a> {
    type Item = (&'a String, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ObjectIter::OfItem(fields) => fields.next(),
            ObjectIter::OfMap(fields) => fields.next(),
        }
    }
}

impl Serialize for ObjectRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ObjectRef::Item(o) => o.serialize(s),
            ObjectRef::Map(m) => m.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> ItemJson {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn objects_built_alike_share_their_shape() {
        let a = object(json!({"id": 1, "amount": 2, "status": "new"}));
        let mut b = ItemJson::new();
        b.insert("id", json!(2));
        b.insert("amount".to_string(), json!(3));
        b.insert("status", json!("paid"));
        assert!(a.shares_keys_with(&b));
        let c: ItemJson = json!({"id": 1, "status": "x", "amount": 2})
            .as_object()
            .unwrap()
            .clone()
            .into();
        assert!(!a.shares_keys_with(&c));
        assert_eq!(a, a.clone());
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"id":1,"status":"x","amount":2}"#
        );
    }

    #[test]
    fn insert_and_shift_remove_follow_serde_json_s_map() {
        let mut o = object(json!({"a": 1, "b": 2, "c": 3, "d": 4}));
        let mut m = json!({"a": 1, "b": 2, "c": 3, "d": 4})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(o.insert("b", json!(20)), m.insert("b".into(), json!(20)));
        assert_eq!(o.shift_remove("a"), m.shift_remove("a"));
        assert_eq!(o.insert("e", json!(5)), m.insert("e".into(), json!(5)));
        assert_eq!(o.shift_remove("c"), m.shift_remove("c"));
        assert_eq!(o.shift_remove("zz"), None);
        let keys = |o: &ItemJson| o.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&o), m.keys().cloned().collect::<Vec<_>>());
        assert_eq!(o.to_map(), m);
        assert_eq!(o["e"], json!(5));
        assert_eq!(o["missing"], Value::Null);
    }

    #[test]
    fn a_shape_shared_by_a_copy_is_not_changed_under_it() {
        let keys: Vec<String> = (0..SHARED_KEYS_MAX + 5).map(|i| format!("k{i}")).collect();
        let mut a = ItemJson::new();
        for k in &keys {
            a.insert(k.as_str(), json!(k));
        }
        assert!(!a.shape.shared, "long objects get a shape of their own");
        let copy = a.clone();
        a.insert("extra", json!(1));
        assert!(a.contains_key("extra") && !copy.contains_key("extra"));
        assert_eq!(copy.len(), keys.len());
        for k in &keys {
            assert_eq!(a.get(k), Some(&json!(k)));
            assert_eq!(copy.get(k), Some(&json!(k)));
        }
    }

    #[test]
    fn keys_that_are_data_are_remembered_a_few_at_a_time() {
        let objects: Vec<ItemJson> = (0..NEXT_SHAPES_MAX * 2)
            .map(|i| object(json!({"data-keyed": true, format!("user-{i}"): i})))
            .collect();
        for (i, o) in objects.iter().enumerate() {
            assert_eq!(o.get(&format!("user-{i}")), Some(&json!(i)));
            assert!(o.shape.shared);
        }
        let parent = Shape::of_keys(["data-keyed"].into_iter());
        assert_eq!(parent.next.lock().unwrap().len(), NEXT_SHAPES_MAX);
    }

    #[test]
    fn duplicate_keys_in_json_text_keep_the_first_position_and_last_value() {
        let o: ItemJson = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(serde_json::to_string(&o).unwrap(), r#"{"a":3,"b":2}"#);
        assert_eq!(o.values.capacity(), 2);
    }
}
