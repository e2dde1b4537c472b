//! `options.cache.store: redis`: cached responses kept on the process's Redis, so every process
//! (every worker of queue mode) shares them. An entry is the reply as JSON with its body in
//! base64, under `<prefix>:sluice:httpcache:<sha256 of the cache key>`, expiring with the TTL.

use super::errors::Failure;
use super::response::Reply;
use base64::Engine as _;
use redis::AsyncCommands;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sluice_runtime::redis::process_redis;
use std::time::Duration;

fn unavailable(e: impl std::fmt::Display) -> Failure {
    Failure::item(format!("The shared response cache is unavailable: {e}"))
}

fn redis_key(prefix_key: impl Fn(&str) -> String, cache_key: &str) -> String {
    let digest = Sha256::digest(cache_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    prefix_key(&format!("httpcache:{hex}"))
}

/// The reply cached under `cache_key` and how long it has left to live.
pub(super) async fn get(cache_key: &str) -> Result<Option<(Reply, Duration)>, Failure> {
    let (redis, mut connection) = process_redis().map_err(unavailable)?;
    let key = redis_key(|name| redis.key(name), cache_key);
    let (stored, ttl_ms): (Option<String>, i64) = redis::pipe()
        .get(&key)
        .pttl(&key)
        .query_async(&mut connection)
        .await
        .map_err(unavailable)?;
    let Some(stored) = stored.filter(|_| ttl_ms > 0) else {
        return Ok(None);
    };
    // An entry that cannot be read (written by another version) is a miss, not an error.
    Ok(decode(&stored).map(|reply| (reply, Duration::from_millis(ttl_ms as u64))))
}

/// Keep `reply` under `cache_key` for `ttl`.
pub(super) async fn put(cache_key: &str, reply: &Reply, ttl: Duration) -> Result<(), Failure> {
    let (redis, mut connection) = process_redis().map_err(unavailable)?;
    let key = redis_key(|name| redis.key(name), cache_key);
    let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    connection
        .pset_ex::<_, _, ()>(&key, encode(reply), ttl_ms)
        .await
        .map_err(unavailable)
}

fn encode(reply: &Reply) -> String {
    json!({
        "status": reply.status,
        "headers": reply.headers,
        "body": base64::engine::general_purpose::STANDARD.encode(&reply.body),
        "url": reply.url,
    })
    .to_string()
}

fn decode(text: &str) -> Option<Reply> {
    let value: Value = serde_json::from_str(text).ok()?;
    Some(Reply {
        status: u16::try_from(value["status"].as_u64()?).ok()?,
        headers: serde_json::from_value(value["headers"].clone()).ok()?,
        body: base64::engine::general_purpose::STANDARD
            .decode(value["body"].as_str()?)
            .ok()?,
        url: value["url"].as_str()?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_survives_the_round_trip() {
        let reply = Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: vec![0, 159, 146, 150, b'{'],
            url: "http://127.0.0.1/x".into(),
        };
        let back = decode(&encode(&reply)).unwrap();
        assert_eq!(
            (back.status, back.headers, back.body, back.url),
            (reply.status, reply.headers, reply.body, reply.url)
        );
        assert!(decode("{\"status\": \"x\"}").is_none());
    }
}
