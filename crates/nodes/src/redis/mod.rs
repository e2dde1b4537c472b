//! The Redis node (`redis` typeVersion 1): delete, get, incr, info, keys, llen, pop, publish,
//! push and set, with n8n's parameters and output shapes, over the process's one multiplexed
//! connection for the node's credential. The commands of all items go out as one pipeline per
//! step (get needs the key's type first, keys its names and then their types), so a run costs
//! one to three round trips however many items it has.

mod config;

use crate::util::params::Parsed;

use config::{Config, KeyType, Operation};
use redis::{Cmd, RedisResult, Value as RedisValue};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_expr::json_js::to_js_string;
use sluice_model::{Item, JsonObject, NodeDef, Value};
use sluice_runtime::redis::{redis_connection, RedisCredential};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.redis",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: node,
};

struct Redis {
    config: Parsed<Config>,
}

fn node(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Redis {
        config: Parsed::new(def, params, Box::new(config::parse))?,
    }))
}

/// One pipeline round trip; each command's own result (a failing command fails only its item).
async fn send(
    connection: &mut redis::aio::ConnectionManager,
    credential: &RedisCredential,
    commands: &[Cmd],
) -> Result<Vec<RedisResult<RedisValue>>, NodeError> {
    if commands.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipeline = redis::pipe();
    for command in commands {
        pipeline.add_command(command.clone());
    }
    pipeline
        .ignore_errors()
        .query_async(connection)
        .await
        .map_err(|e| {
            NodeError::new(format!(
                "Redis {} did not answer: {}",
                credential.describe(),
                e
            ))
        })
}

fn text(value: &RedisValue) -> Value {
    match value {
        RedisValue::Nil => Value::Null,
        RedisValue::Int(n) => Value::from(*n),
        RedisValue::BulkString(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        RedisValue::SimpleString(s) => Value::String(s.clone()),
        RedisValue::Okay => Value::String("OK".into()),
        RedisValue::Double(f) => sluice_expr::json_js::number_to_json(*f),
        RedisValue::Boolean(b) => Value::Bool(*b),
        RedisValue::Array(items) | RedisValue::Set(items) => {
            Value::Array(items.iter().map(text).collect())
        }
        RedisValue::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (to_js_string(&text(k)), text(v)))
                .collect(),
        ),
        other => Value::String(format!("{other:?}")),
    }
}

/// The command that reads a key of Redis type `kind` (`None`: nothing to read).
fn read_command(key: &str, kind: &str) -> Option<Cmd> {
    Some(match kind {
        "string" => redis::cmd("GET").arg(key).clone(),
        "hash" => redis::cmd("HGETALL").arg(key).clone(),
        "list" => redis::cmd("LRANGE").arg(key).arg(0).arg(-1).clone(),
        "set" => redis::cmd("SMEMBERS").arg(key).clone(),
        _ => return None,
    })
}

/// A value read with [`read_command`]: a string unparsed, a hash as an object of strings.
fn read_value(kind: &str, value: &RedisValue) -> Value {
    match (kind, value) {
        ("hash", RedisValue::Array(flat)) => Value::Object(
            flat.chunks(2)
                .map(|pair| {
                    (
                        to_js_string(&text(&pair[0])),
                        pair.get(1).map(text).unwrap_or(Value::Null),
                    )
                })
                .collect(),
        ),
        _ => text(value),
    }
}

fn key_type_name(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::Hash => "hash",
        KeyType::List => "list",
        KeyType::Sets => "set",
        KeyType::String | KeyType::Automatic => "string",
    }
}

/// The commands `set` sends for one item.
fn set_commands(config: &Config) -> Result<Vec<Cmd>, NodeError> {
    let key = &config.key;
    let value = &config.value;
    let kind = match config.key_type {
        KeyType::Automatic => match value {
            Value::Array(_) => KeyType::List,
            Value::Object(_) => KeyType::Hash,
            _ => KeyType::String,
        },
        other => other,
    };
    let mut commands = Vec::new();
    match kind {
        KeyType::Hash => {
            let object = match value {
                Value::Object(map) => map.clone(),
                Value::String(s) if config.value_is_json => match serde_json::from_str(s) {
                    Ok(Value::Object(map)) => map,
                    _ => {
                        return Err(NodeError::new("the value is not a JSON object")
                            .with_parameter("value"))
                    }
                },
                _ => {
                    return Err(
                        NodeError::new("a hash needs an object as value").with_parameter("value")
                    )
                }
            };
            if !object.is_empty() {
                let mut hset = redis::cmd("HSET");
                hset.arg(key);
                for (field, v) in &object {
                    hset.arg(field).arg(to_js_string(v));
                }
                commands.push(hset);
            }
        }
        KeyType::List | KeyType::Sets => {
            let elements: Vec<String> = match value {
                Value::Array(items) => items.iter().map(to_js_string).collect(),
                Value::String(s) => match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(items)) => items.iter().map(to_js_string).collect(),
                    _ => vec![s.clone()],
                },
                other => vec![to_js_string(other)],
            };
            if kind == KeyType::List {
                commands.push(redis::cmd("DEL").arg(key).clone());
                commands.push(redis::cmd("RPUSH").arg(key).arg(&elements).clone());
            } else {
                commands.push(redis::cmd("SADD").arg(key).arg(&elements).clone());
            }
        }
        KeyType::String | KeyType::Automatic => {
            commands.push(redis::cmd("SET").arg(key).arg(to_js_string(value)).clone());
        }
    }
    if let Some(ttl) = config.ttl {
        commands.push(redis::cmd("EXPIRE").arg(key).arg(ttl).clone());
    }
    Ok(commands)
}

/// `INFO` text as an object: `key:value` lines, `a=1,b=2` values as objects.
fn parse_info(info: &str) -> JsonObject {
    let mut object = JsonObject::new();
    for line in info.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = if value.contains('=') {
            Value::Object(
                value
                    .split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                    .collect(),
            )
        } else {
            Value::String(value.to_string())
        };
        object.insert(key.to_string(), value);
    }
    object
}

/// Where one item is in the run: its configuration, its commands' places in each step's
/// pipeline, and what those steps found.
struct Slot {
    config: Config,
    first: std::ops::Range<usize>,
    /// keys: the key names found; get: the one key.
    keys: Vec<String>,
    /// The Redis type of each of `keys`.
    kinds: Vec<String>,
    types: std::ops::Range<usize>,
    reads: Vec<Option<usize>>,
    error: Option<NodeError>,
}

fn command_error(e: &redis::RedisError) -> NodeError {
    NodeError::new(e.to_string())
}

impl Redis {
    fn output(
        &self,
        slot: &Slot,
        item: &Item,
        first: &[RedisResult<RedisValue>],
        reads: &[RedisResult<RedisValue>],
    ) -> Result<Item, NodeError> {
        let config = &slot.config;
        let results = &first[slot.first.clone()];
        if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
            return Err(command_error(e));
        }
        let first_value = results.first().and_then(|r| r.as_ref().ok());
        let read = |i: usize| -> Result<Value, NodeError> {
            match slot.reads.get(i).copied().flatten() {
                None => Ok(Value::Null),
                Some(at) => match &reads[at] {
                    Ok(value) => Ok(read_value(&slot.kinds[i], value)),
                    Err(e) => Err(command_error(e)),
                },
            }
        };
        let with_property = |value: Value| {
            let mut json = (*item.json).clone();
            config.property.write(&mut json, value);
            Item::new(json)
        };
        Ok(match config.operation {
            Operation::Delete | Operation::Publish | Operation::Push | Operation::Set => {
                Item::new((*item.json).clone())
            }
            Operation::Get => with_property(read(0)?),
            Operation::Llen => with_property(first_value.map(text).unwrap_or(Value::Null)),
            Operation::Pop => {
                let popped = first_value.map(text).unwrap_or(Value::Null);
                let popped = match &popped {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(popped),
                    _ => popped,
                };
                with_property(popped)
            }
            Operation::Incr => {
                let mut json = JsonObject::new();
                json.insert(
                    config.key.clone(),
                    first_value.map(text).unwrap_or(Value::Null),
                );
                Item::new(json)
            }
            Operation::Info => {
                let info = first_value.map(text).unwrap_or(Value::Null);
                Item::new(parse_info(info.as_str().unwrap_or_default()))
            }
            Operation::Keys => {
                let mut json = JsonObject::new();
                if config.get_values {
                    for (i, key) in slot.keys.iter().enumerate() {
                        json.insert(key.clone(), read(i)?);
                    }
                } else {
                    json.insert(
                        "keys".into(),
                        Value::Array(slot.keys.iter().cloned().map(Value::String).collect()),
                    );
                }
                Item::new(json)
            }
        })
    }
}

#[async_trait::async_trait]
impl Node for Redis {
    fn credential_types(&self) -> Vec<&str> {
        vec!["redis"]
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let items = ctx.main_input();
        if items.is_empty() {
            return Ok(vec![Vec::new()]);
        }
        let credential =
            RedisCredential::from_n8n(&ctx.node_credential("redis")?).map_err(NodeError::new)?;
        let mut connection = redis_connection(&credential).map_err(NodeError::new)?;

        // Step 1: each item's own commands (get: the key's type; keys: the key names).
        let mut first = Vec::new();
        let mut slots = Vec::with_capacity(items.len());
        for index in 0..items.len() {
            let mut slot = Slot {
                config: self.config.for_item(ctx, index)?.into_owned(),
                first: first.len()..first.len(),
                keys: Vec::new(),
                kinds: Vec::new(),
                types: 0..0,
                reads: Vec::new(),
                error: None,
            };
            let config = &slot.config;
            let key = config.key.as_str();
            let commands = match config.operation {
                Operation::Delete => Ok(vec![redis::cmd("DEL").arg(key).clone()]),
                Operation::Get if config.key_type == KeyType::Automatic => {
                    Ok(vec![redis::cmd("TYPE").arg(key).clone()])
                }
                Operation::Get => Ok(Vec::new()),
                Operation::Incr => {
                    let mut commands = vec![redis::cmd("INCR").arg(key).clone()];
                    if let Some(ttl) = config.ttl {
                        commands.push(redis::cmd("EXPIRE").arg(key).arg(ttl).clone());
                    }
                    Ok(commands)
                }
                Operation::Info => Ok(vec![redis::cmd("INFO").clone()]),
                Operation::Keys => Ok(vec![redis::cmd("KEYS").arg(&config.key_pattern).clone()]),
                Operation::Llen => Ok(vec![redis::cmd("LLEN").arg(key).clone()]),
                Operation::Pop => {
                    let name = if config.tail { "RPOP" } else { "LPOP" };
                    Ok(vec![redis::cmd(name).arg(&config.list).clone()])
                }
                Operation::Publish => Ok(vec![redis::cmd("PUBLISH")
                    .arg(&config.list)
                    .arg(to_js_string(&config.value))
                    .clone()]),
                Operation::Push => {
                    let name = if config.tail { "RPUSH" } else { "LPUSH" };
                    Ok(vec![redis::cmd(name)
                        .arg(&config.list)
                        .arg(to_js_string(&config.value))
                        .clone()])
                }
                Operation::Set => set_commands(config),
            };
            match commands {
                Ok(commands) => first.extend(commands),
                Err(e) => slot.error = Some(e),
            }
            slot.first = slot.first.start..first.len();
            slots.push(slot);
        }
        let first_results = send(&mut connection, &credential, &first).await?;

        // Step 2: the type of every key to read.
        let mut types = Vec::new();
        for slot in &mut slots {
            let start = types.len();
            match slot.config.operation {
                Operation::Get => {
                    slot.keys = vec![slot.config.key.clone()];
                    match slot.config.key_type {
                        KeyType::Automatic => {
                            let kind = first_results
                                .get(slot.first.start)
                                .and_then(|r| r.as_ref().ok())
                                .map(text);
                            slot.kinds = vec![kind
                                .and_then(|k| k.as_str().map(String::from))
                                .unwrap_or_default()];
                        }
                        other => slot.kinds = vec![key_type_name(other).to_string()],
                    }
                }
                Operation::Keys => {
                    if let Some(Ok(RedisValue::Array(names))) = first_results.get(slot.first.start)
                    {
                        let mut keys: Vec<String> =
                            names.iter().map(|n| to_js_string(&text(n))).collect();
                        keys.sort();
                        slot.keys = keys;
                    }
                    if slot.config.get_values {
                        for key in &slot.keys {
                            types.push(redis::cmd("TYPE").arg(key).clone());
                        }
                    }
                }
                _ => {}
            }
            slot.types = start..types.len();
        }
        let type_results = send(&mut connection, &credential, &types).await?;

        // Step 3: read the values.
        let mut reads = Vec::new();
        for slot in &mut slots {
            if slot.config.operation == Operation::Keys {
                slot.kinds = type_results[slot.types.clone()]
                    .iter()
                    .map(|r| {
                        r.as_ref()
                            .ok()
                            .map(text)
                            .and_then(|k| k.as_str().map(String::from))
                            .unwrap_or_default()
                    })
                    .collect();
            }
            slot.reads = slot
                .keys
                .iter()
                .zip(&slot.kinds)
                .map(|(key, kind)| {
                    read_command(key, kind).map(|command| {
                        reads.push(command);
                        reads.len() - 1
                    })
                })
                .collect();
        }
        let read_results = send(&mut connection, &credential, &reads).await?;
        let round_trips = [&first, &types, &reads]
            .iter()
            .filter(|commands| !commands.is_empty())
            .count();
        ctx.count("requests", round_trips as u64);

        let mut out = Vec::with_capacity(items.len());
        for (index, slot) in slots.iter().enumerate() {
            let result = match &slot.error {
                Some(e) => Err(e.clone()),
                None => self.output(slot, &items[index], &first_results, &read_results),
            };
            match result {
                Ok(item) => out.push(item.paired_to(index)),
                Err(e) if ctx.continue_on_fail() => out.push(ctx.error_item(&e, index)),
                Err(e) => return Err(e.with_item(index)),
            }
        }
        Ok(vec![out])
    }
}
