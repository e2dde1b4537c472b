//! The Redis node's parameters (typeVersion 1), parsed at build time and again per item when
//! they hold expressions.

use crate::util::params::Reader;
use crate::util::path::FieldPath;
use sluice_engine::NodeError;
use sluice_model::Value;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Operation {
    Delete,
    Get,
    Incr,
    Info,
    Keys,
    Llen,
    Pop,
    Publish,
    Push,
    Set,
}

/// n8n's `keyType`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum KeyType {
    Automatic,
    Hash,
    List,
    Sets,
    String,
}

#[derive(Clone, Debug)]
pub(super) struct Config {
    pub operation: Operation,
    pub key: String,
    pub key_type: KeyType,
    /// set: the value; push and publish: `messageData`.
    pub value: Value,
    pub value_is_json: bool,
    /// Seconds to live (`expire` on, `ttl`).
    pub ttl: Option<i64>,
    /// Where `get` writes the value (`propertyName`, through dot notation unless it is off).
    pub property: FieldPath,
    pub key_pattern: String,
    pub get_values: bool,
    /// push and pop: the list; publish: the channel.
    pub list: String,
    pub tail: bool,
}

pub(super) fn parse(r: &Reader<'_>) -> Result<Config, NodeError> {
    let operation = r.choice("operation", "info", |op| {
        Some(match op {
            "delete" => Operation::Delete,
            "get" => Operation::Get,
            "incr" => Operation::Incr,
            "info" => Operation::Info,
            "keys" => Operation::Keys,
            "llen" => Operation::Llen,
            "pop" => Operation::Pop,
            "publish" => Operation::Publish,
            "push" => Operation::Push,
            "set" => Operation::Set,
            _ => return None,
        })
    })?;
    let key_type = r.choice("keyType", "automatic", |t| {
        Some(match t {
            "automatic" => KeyType::Automatic,
            "hash" => KeyType::Hash,
            "list" => KeyType::List,
            "sets" => KeyType::Sets,
            "string" => KeyType::String,
            _ => return None,
        })
    })?;
    let text = |path: &str| -> Result<String, NodeError> {
        Ok(match r.get(path)? {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => sluice_expr::json_js::to_js_string(other),
        })
    };
    let ttl = if r.bool_or("expire", false)? {
        Some(r.number_or("ttl", 60.0)? as i64)
    } else {
        None
    };
    let (value, list) = match operation {
        Operation::Publish => (
            r.get("messageData")?.cloned().unwrap_or(Value::Null),
            text("channel")?,
        ),
        Operation::Push => (
            r.get("messageData")?.cloned().unwrap_or(Value::Null),
            text("list")?,
        ),
        _ => (
            r.get("value")?.cloned().unwrap_or(Value::Null),
            text("list")?,
        ),
    };
    let config = Config {
        operation,
        key: text("key")?,
        key_type,
        value,
        value_is_json: r.bool_or("valueIsJSON", true)?,
        ttl,
        property: FieldPath::new(
            &match r.get("propertyName")? {
                None => "propertyName".into(),
                Some(_) => text("propertyName")?,
            },
            r.bool_or("options.dotNotation", true)?,
        ),
        key_pattern: text("keyPattern")?,
        get_values: r.bool_or("getValues", true)?,
        list,
        tail: r.bool_or("tail", false)?,
    };
    Ok(config)
}
