//! The Redis backend, for workers on many hosts. Every state change is one Lua script, so it is
//! atomic; the design is argued in ARCHITECTURE.md. Keys, under `<prefix>:sluice:`:
//!
//! - `job:<id>`: a hash with the job (payload, rank, order, state, token, the worker that held it
//!   last, stall and failure counts, result, error); finished jobs expire after the retention
//!   time.
//! - `waiting`: ready jobs, a sorted set by order (ready time + rank × aging step, then arrival).
//! - `delayed`: jobs not ready yet, by ready time; moved to `waiting` when a worker reserves.
//! - `active`: leased jobs, by lease deadline; `reap` takes back those past it.
//! - `dead`: the dead-letter queue, by the time the job died.
//! - `wake`: a list (at most 64 long) a waiting worker blocks on (BLPOP) and every enqueue
//!   pushes to while it is shorter.
//! - `dedup:<key>` (with a TTL), `done:<second>` (completions per second, for the rate),
//!   `workers` (their reports), and `reply:<id>`: a list of replies about a job (webhook answers
//!   a worker relays), read with BLPOP by the process holding the request.
//!
//! Ordinary commands share one `ConnectionManager` (multiplexed, reconnecting); the blocking
//! BLPOP runs on connections of its own without a response timeout (redis-rs times out every
//! command after 500 ms by default, blocking ones included, and a blocking command would hold
//! up the commands queued behind it on a shared connection).

use crate::{
    order_score, Canceled, DeadJob, Enqueued, Job, Lease, Nack, Nacked, NewJob, Priority, Queue,
    QueueConfig, QueueError, Stats, WorkerStatus, RATE_WINDOW, REPLY_TTL,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncCommands, AsyncConnectionConfig, Client, Script};
use sluice_store::now_ms;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

pub use sluice_runtime::redis::RedisConfig;

/// How long connecting may take before Redis is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

pub struct RedisQueue {
    client: Client,
    conn: ConnectionManager,
    /// Connections for BLPOP, one per concurrent waiting reservation.
    blocking: tokio::sync::Mutex<Vec<MultiplexedConnection>>,
    keys: String,
    config: QueueConfig,
    /// Orders jobs enqueued by this process that share a score.
    seq: AtomicI64,
}

impl RedisQueue {
    /// Connect; an error (not a wait) when Redis does not answer within a few seconds.
    pub async fn connect(redis: &RedisConfig, config: QueueConfig) -> Result<Self, QueueError> {
        let unreachable = |e: &dyn std::fmt::Display| {
            QueueError::Config(format!(
                "Redis at {} does not answer: {e}",
                redis.display_url()
            ))
        };
        let client = Client::open(redis.url.as_str()).map_err(|e| unreachable(&e))?;
        // One plain round trip first: the connection manager would retry for longer.
        let mut probe = tokio::time::timeout(
            CONNECT_TIMEOUT,
            client.get_multiplexed_async_connection_with_config(
                &AsyncConnectionConfig::new().set_connection_timeout(Some(CONNECT_TIMEOUT)),
            ),
        )
        .await
        .map_err(|_| unreachable(&"timed out"))?
        .map_err(|e| unreachable(&e))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut probe)
            .await
            .map_err(|e| unreachable(&e))?;
        let conn = client
            .get_connection_manager_with_config(
                ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(Duration::from_secs(5)))
                    .set_max_delay(Duration::from_secs(2)),
            )
            .await
            .map_err(|e| unreachable(&e))?;
        Ok(RedisQueue {
            client,
            conn,
            blocking: tokio::sync::Mutex::new(Vec::new()),
            keys: format!("{}:sluice", redis.prefix),
            config,
            seq: AtomicI64::new(0),
        })
    }

    /// The order of a job ready at `ready_at` with `rank`: its score, then arrival.
    fn order(&self, ready_at: i64, rank: i64) -> String {
        let arrival = self.seq.fetch_add(1, Ordering::Relaxed).rem_euclid(1000);
        (order_score(ready_at, rank, &self.config) * 1000 + arrival).to_string()
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.keys)
    }

    /// Block until something is enqueued or `timeout` passes, on a connection of its own.
    async fn wait_for_wake(&self, timeout: Duration) -> Result<(), QueueError> {
        self.blocking_pop(&self.key("wake"), timeout)
            .await
            .map(drop)
    }

    /// BLPOP `key` for up to `timeout` on a connection of its own (taken from the pool).
    async fn blocking_pop(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<String>, QueueError> {
        let pooled = self.blocking.lock().await.pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => {
                self.client
                    .get_multiplexed_async_connection_with_config(
                        &AsyncConnectionConfig::new()
                            .set_connection_timeout(Some(CONNECT_TIMEOUT))
                            .set_response_timeout(None),
                    )
                    .await?
            }
        };
        let seconds = timeout.as_secs_f64().max(0.01);
        let result: Result<Option<[String; 2]>, _> = conn.blpop(key, seconds).await;
        // A connection that failed is dropped; a new one is made next time.
        if result.is_ok() {
            self.blocking.lock().await.push(conn);
        }
        Ok(result?.map(|[_, value]| value))
    }

    /// `script` (ACK or ACK_AND_RESERVE) with the acknowledgement's arguments, `ARGV[1..=6]`.
    fn ack_invocation<'a>(
        &self,
        script: &'a Script,
        job: &Job,
        result: &str,
        now: i64,
    ) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        invocation
            .arg(&self.keys)
            .arg(&job.id)
            .arg(result)
            .arg(now)
            .arg(self.config.retention.as_millis() as i64)
            .arg(now / 1000);
        invocation
    }

    async fn try_reserve(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Result<Job, Option<i64>>, QueueError> {
        let now = now_ms();
        let reply: Vec<String> = RESERVE
            .prepare_invoke()
            .arg(&self.keys)
            .arg(worker)
            .arg(now)
            .arg(now + lease.as_millis() as i64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(leased(&reply))
    }
}

/// A job from a `reserve_job` reply, or when the next delayed job is due (if any).
fn leased(reply: &[String]) -> Result<Job, Option<i64>> {
    if reply.first().map(String::as_str) != Some("1") {
        return Err(reply.get(1).and_then(|t| t.parse().ok()));
    }
    let field = |i: usize| reply.get(i).cloned().unwrap_or_default();
    let number = |i: usize| field(i).parse::<i64>().unwrap_or(0);
    Ok(Job {
        id: field(1),
        payload: field(2),
        rank: number(3),
        token: number(4),
        stalls: number(5),
        failures: number(6),
        enqueued_at: number(7),
    })
}

/// Lua: the scripts' shared names. `ARGV[1]` is always the key prefix.
const PRELUDE: &str = "local p = ARGV[1]
local function job(id) return p .. ':job:' .. id end
local function wake() if redis.call('LLEN', p .. ':wake') < 64 then redis.call('LPUSH', p .. ':wake', 1) end end
";

/// A script: the prelude, then `parts`.
fn script(parts: &[&str]) -> Script {
    Script::new(&[&[PRELUDE], parts].concat().join("\n"))
}

/// A script of one body after the prelude.
macro_rules! lua {
    ($body:expr) => {
        LazyLock::new(|| script(&[$body]))
    };
}

static ENQUEUE: LazyLock<Script> = lua!(
    r"
local id, now, ready_at = ARGV[2], tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('EXISTS', job(id)) == 1 then return {'0', id} end
if ARGV[10] ~= '' then
  local depth = redis.call('ZCARD', p .. ':waiting') + redis.call('ZCARD', p .. ':delayed')
  if depth >= tonumber(ARGV[10]) then return {'full', tostring(depth)} end
end
if ARGV[8] ~= '' then
  local holder = redis.call('GET', p .. ':dedup:' .. ARGV[8])
  if holder then return {'0', holder} end
  redis.call('SET', p .. ':dedup:' .. ARGV[8], id, 'PX', ARGV[9])
end
redis.call('HSET', job(id), 'payload', ARGV[3], 'rank', ARGV[4], 'order', ARGV[7],
  'ready_at', ARGV[6], 'enqueued_at', ARGV[5], 'state', 'waiting', 'token', 0, 'stalls', 0,
  'failures', 0)
if ready_at > now then
  redis.call('ZADD', p .. ':delayed', ARGV[6], id)
else
  redis.call('ZADD', p .. ':waiting', ARGV[7], id)
end
wake()
return {'1', id}
"
);

/// Lua: lease the first waiting job (moving due delayed jobs to `waiting` first). Returns
/// `{'1', id, payload, rank, token, stalls, failures, enqueued_at}`, or `{'0', next_due?}`.
const RESERVE_JOB: &str = r"
local function reserve_job(worker, now, lease_until)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. ':delayed', '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('ZREM', p .. ':delayed', id)
    local order = redis.call('HGET', job(id), 'order')
    if order then redis.call('ZADD', p .. ':waiting', order, id) end
  end
  local first = redis.call('ZPOPMIN', p .. ':waiting')
  if #first == 0 then
    local next = redis.call('ZRANGE', p .. ':delayed', 0, 0, 'WITHSCORES')
    if #next == 0 then return {'0'} end
    return {'0', next[2]}
  end
  local id = first[1]
  local f = redis.call('HMGET', job(id), 'payload', 'rank', 'stalls', 'failures', 'enqueued_at',
    'token')
  local token = tostring(tonumber(f[6]) + 1)
  redis.call('HSET', job(id), 'state', 'active', 'worker', worker, 'token', token)
  redis.call('ZADD', p .. ':active', lease_until, id)
  return {'1', id, f[1], f[2], token, f[3], f[4], f[5]}
end
";

/// Lua: record a job's result once (1), or nothing when it already ended (0).
const ACK_JOB: &str = r"
local function ack_job(id, result, now, retention, second)
  local state = redis.call('HGET', job(id), 'state')
  if state == 'active' then
    redis.call('ZREM', p .. ':active', id)
  elseif state == 'waiting' then
    redis.call('ZREM', p .. ':waiting', id)
    redis.call('ZREM', p .. ':delayed', id)
  else
    return 0
  end
  redis.call('HSET', job(id), 'state', 'done', 'result', result, 'finished_at', now)
  redis.call('PEXPIRE', job(id), retention)
  local done = p .. ':done:' .. second
  if redis.call('INCR', done) == 1 then redis.call('EXPIRE', done, 60) end
  return 1
end
";

static RESERVE: LazyLock<Script> =
    LazyLock::new(|| script(&[RESERVE_JOB, "return reserve_job(ARGV[2], ARGV[3], ARGV[4])"]));

static ACK: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        ACK_JOB,
        "return ack_job(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])",
    ])
});

/// `ACK` then `RESERVE`: `{recorded, <RESERVE's reply>...}`.
static ACK_AND_RESERVE: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        ACK_JOB,
        RESERVE_JOB,
        "local recorded = ack_job(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
local reply = reserve_job(ARGV[7], ARGV[4], ARGV[8])
table.insert(reply, 1, tostring(recorded))
return reply",
    ])
});

static EXTEND: LazyLock<Script> = lua!(
    r"
local id = ARGV[2]
local f = redis.call('HMGET', job(id), 'state', 'token')
if f[1] == 'canceled' then return 2 end
if f[1] == 'active' and f[2] == ARGV[3] then
  redis.call('ZADD', p .. ':active', ARGV[4], id)
  return 1
end
return 0
"
);

static NACK: LazyLock<Script> = lua!(
    r"
local id, now = ARGV[2], ARGV[5]
local f = redis.call('HMGET', job(id), 'state', 'token', 'order')
if f[1] ~= 'active' or f[2] ~= ARGV[3] then return 0 end
redis.call('ZREM', p .. ':active', id)
if ARGV[4] == 'release' then
  redis.call('HSET', job(id), 'state', 'waiting')
  redis.call('ZADD', p .. ':waiting', f[3], id)
  wake()
  return 1
end
local failures = redis.call('HINCRBY', job(id), 'failures', 1)
redis.call('HSET', job(id), 'error', ARGV[6])
if ARGV[4] == 'bury' or failures > tonumber(ARGV[7]) then
  redis.call('HSET', job(id), 'state', 'dead', 'finished_at', now)
  redis.call('ZADD', p .. ':dead', now, id)
  return 2
end
redis.call('HSET', job(id), 'state', 'waiting', 'ready_at', ARGV[8], 'order', ARGV[9])
if tonumber(ARGV[8]) > tonumber(now) then
  redis.call('ZADD', p .. ':delayed', ARGV[8], id)
else
  redis.call('ZADD', p .. ':waiting', ARGV[9], id)
  wake()
end
return 1
"
);

static REAP: LazyLock<Script> = lua!(
    r"
local now, max_stalls = ARGV[2], tonumber(ARGV[3])
local dead = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. ':active', '-inf', '(' .. now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', p .. ':active', id)
  local stalls = redis.call('HINCRBY', job(id), 'stalls', 1)
  if stalls > max_stalls then
    redis.call('HSET', job(id), 'state', 'dead', 'finished_at', now,
      'error', 'stalled ' .. stalls .. ' times (its worker stopped)')
    redis.call('ZADD', p .. ':dead', now, id)
    table.insert(dead, id)
  else
    redis.call('HSET', job(id), 'state', 'waiting')
    redis.call('ZADD', p .. ':waiting', redis.call('HGET', job(id), 'order'), id)
    wake()
  end
end
return dead
"
);

static CANCEL: LazyLock<Script> = lua!(
    r"
local id = ARGV[2]
local state = redis.call('HGET', job(id), 'state')
local outcome
if state == 'waiting' then outcome = 1 elseif state == 'active' then outcome = 2 else return 0 end
redis.call('ZREM', p .. ':waiting', id)
redis.call('ZREM', p .. ':delayed', id)
redis.call('ZREM', p .. ':active', id)
redis.call('HSET', job(id), 'state', 'canceled', 'finished_at', ARGV[3])
redis.call('PEXPIRE', job(id), ARGV[4])
return outcome
"
);

static REPLAY: LazyLock<Script> = lua!(
    r"
local id = ARGV[2]
if redis.call('HGET', job(id), 'state') ~= 'dead' then return 0 end
redis.call('ZREM', p .. ':dead', id)
redis.call('HSET', job(id), 'state', 'waiting', 'stalls', 0, 'failures', 0, 'order', ARGV[3],
  'ready_at', ARGV[4])
redis.call('HDEL', job(id), 'error', 'finished_at')
redis.call('ZADD', p .. ':waiting', ARGV[3], id)
wake()
return 1
"
);

static FORGET_DEAD: LazyLock<Script> = lua!(
    r"
local id = ARGV[2]
if redis.call('HGET', job(id), 'state') ~= 'dead' then return 0 end
redis.call('ZREM', p .. ':dead', id)
redis.call('DEL', job(id))
return 1
"
);

static PURGE: LazyLock<Script> = lua!(
    r"
local ids = redis.call('ZRANGE', p .. ':dead', 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', job(id)) end
redis.call('DEL', p .. ':dead')
return ids
"
);

/// Waiting jobs per rank level and the oldest one's ready time: `{high, normal, low, oldest}`.
static WAITING: LazyLock<Script> = lua!(
    r"
local counts = {0, 0, 0}
local oldest = ''
for _, id in ipairs(redis.call('ZRANGE', p .. ':waiting', 0, -1)) do
  local f = redis.call('HMGET', job(id), 'rank', 'ready_at')
  local rank = tonumber(f[1]) or 50
  local level = 3
  if rank <= 33 then level = 1 elseif rank <= 66 then level = 2 end
  counts[level] = counts[level] + 1
  if f[2] and (oldest == '' or tonumber(f[2]) < tonumber(oldest)) then oldest = f[2] end
end
return {tostring(counts[1]), tostring(counts[2]), tostring(counts[3]), oldest}
"
);

#[async_trait::async_trait]
impl Queue for RedisQueue {
    async fn enqueue(&self, new: NewJob) -> Result<Enqueued, QueueError> {
        let now = now_ms();
        let rank = new.priority.rank();
        let ready_at = now + new.delay.as_millis() as i64;
        let (dedup_key, ttl) = new.dedup.as_ref().map_or((String::new(), 0), |(k, t)| {
            (k.clone(), t.as_millis().max(1) as i64)
        });
        let reply: Vec<String> = ENQUEUE
            .prepare_invoke()
            .arg(&self.keys)
            .arg(&new.id)
            .arg(&new.payload)
            .arg(rank)
            .arg(now)
            .arg(ready_at)
            .arg(self.order(ready_at, rank))
            .arg(dedup_key)
            .arg(ttl)
            .arg(new.max_waiting.map_or(String::new(), |m| m.to_string()))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match reply.first().map(String::as_str) {
            Some("1") => Enqueued::Added,
            Some("full") => {
                let depth = reply.get(1).and_then(|d| d.parse().ok()).unwrap_or(0);
                return Err(QueueError::Full(depth));
            }
            _ => Enqueued::Duplicate(reply.get(1).cloned().unwrap_or(new.id)),
        })
    }

    async fn reserve(
        &self,
        worker: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Job>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next_due = match self.try_reserve(worker, lease).await? {
                Ok(job) => return Ok(Some(job)),
                Err(next_due) => next_due,
            };
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut timeout = deadline - now;
            if let Some(due) = next_due {
                let until_due = Duration::from_millis((due - now_ms()).max(10) as u64);
                timeout = timeout.min(until_due);
            }
            self.wait_for_wake(timeout).await?;
        }
    }

    async fn extend(&self, job: &Job, lease: Duration) -> Result<Lease, QueueError> {
        let held: i64 = EXTEND
            .prepare_invoke()
            .arg(&self.keys)
            .arg(&job.id)
            .arg(job.token)
            .arg(now_ms() + lease.as_millis() as i64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match held {
            1 => Lease::Held,
            2 => Lease::Canceled,
            _ => Lease::Lost,
        })
    }

    async fn ack(&self, job: &Job, result: &str) -> Result<bool, QueueError> {
        let recorded: i64 = self
            .ack_invocation(&ACK, job, result, now_ms())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(recorded == 1)
    }

    async fn ack_and_reserve(
        &self,
        job: &Job,
        result: &str,
        worker: &str,
        lease: Duration,
    ) -> Result<(bool, Option<Job>), QueueError> {
        let now = now_ms();
        let reply: Vec<String> = self
            .ack_invocation(&ACK_AND_RESERVE, job, result, now)
            .arg(worker)
            .arg(now + lease.as_millis() as i64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        let recorded = reply.first().map(String::as_str) == Some("1");
        Ok((recorded, leased(&reply[1.min(reply.len())..]).ok()))
    }

    async fn nack(&self, job: &Job, nack: Nack) -> Result<Nacked, QueueError> {
        let now = now_ms();
        let mut invocation = NACK.prepare_invoke();
        invocation.arg(&self.keys).arg(&job.id).arg(job.token);
        match nack {
            Nack::Release => {
                invocation.arg("release").arg(now);
            }
            Nack::Bury { error } => {
                invocation.arg("bury").arg(now).arg(error);
            }
            Nack::Retry { delay, error } => {
                let ready_at = now + delay.as_millis() as i64;
                invocation
                    .arg("retry")
                    .arg(now)
                    .arg(error)
                    .arg(self.config.max_failures)
                    .arg(ready_at)
                    .arg(self.order(ready_at, job.rank));
            }
        }
        let outcome: i64 = invocation.invoke_async(&mut self.conn.clone()).await?;
        Ok(match outcome {
            1 => Nacked::Requeued,
            2 => Nacked::DeadLettered,
            _ => Nacked::Lost,
        })
    }

    async fn cancel(&self, id: &str) -> Result<Canceled, QueueError> {
        let outcome: i64 = CANCEL
            .prepare_invoke()
            .arg(&self.keys)
            .arg(id)
            .arg(now_ms())
            .arg(self.config.retention.as_millis() as i64)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(match outcome {
            1 => Canceled::Waiting,
            2 => Canceled::Running,
            _ => Canceled::NotFound,
        })
    }

    async fn result(&self, id: &str) -> Result<Option<String>, QueueError> {
        let (state, result): (Option<String>, Option<String>) = self
            .conn
            .clone()
            .hmget(self.key(&format!("job:{id}")), &["state", "result"])
            .await?;
        Ok(result.filter(|_| state.as_deref() == Some("done")))
    }

    async fn reap(&self) -> Result<Vec<String>, QueueError> {
        Ok(REAP
            .prepare_invoke()
            .arg(&self.keys)
            .arg(now_ms())
            .arg(self.config.max_stalls)
            .invoke_async(&mut self.conn.clone())
            .await?)
    }

    async fn stats(&self) -> Result<Stats, QueueError> {
        let now = now_ms();
        let mut conn = self.conn.clone();
        let waiting: Vec<String> = WAITING
            .prepare_invoke()
            .arg(&self.keys)
            .invoke_async(&mut conn)
            .await?;
        let count = |i: usize| waiting.get(i).and_then(|c| c.parse().ok()).unwrap_or(0);
        let oldest = waiting.get(3).and_then(|t| t.parse::<i64>().ok());
        let second = now / 1000;
        let seconds: Vec<String> = (1..=RATE_WINDOW.as_secs() as i64)
            .map(|back| self.key(&format!("done:{}", second - back)))
            .collect();
        let (delayed, in_flight, dead, done, workers): (
            u64,
            u64,
            u64,
            Vec<Option<u64>>,
            Vec<String>,
        ) = redis::pipe()
            .zcard(self.key("delayed"))
            .zcard(self.key("active"))
            .zcard(self.key("dead"))
            .mget(seconds)
            .hvals(self.key("workers"))
            .query_async(&mut conn)
            .await?;
        let seen_after = now - self.config.worker_ttl.as_millis() as i64;
        let mut workers = workers
            .iter()
            .filter_map(|w| serde_json::from_str::<WorkerStatus>(w).ok())
            .filter(|w| w.seen_at > seen_after)
            .collect::<Vec<_>>();
        workers.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Stats {
            waiting_high: count(0),
            waiting_normal: count(1),
            waiting_low: count(2),
            delayed,
            in_flight,
            dead,
            oldest_waiting_ms: oldest.map_or(0, |t| (now - t).max(0) as u64),
            jobs_per_second: done.iter().flatten().sum::<u64>() as f64 / RATE_WINDOW.as_secs_f64(),
            workers,
        })
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let (waiting, delayed): (u64, u64) = redis::pipe()
            .zcard(self.key("waiting"))
            .zcard(self.key("delayed"))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(waiting + delayed)
    }

    async fn report_worker(&self, status: &WorkerStatus) -> Result<(), QueueError> {
        let mut conn = self.conn.clone();
        if status.state == "gone" {
            let _: i64 = conn.hdel(self.key("workers"), &status.id).await?;
        } else {
            let json = serde_json::to_string(status).expect("a worker status serializes");
            let _: i64 = conn.hset(self.key("workers"), &status.id, json).await?;
        }
        Ok(())
    }

    async fn dead_jobs(&self) -> Result<Vec<DeadJob>, QueueError> {
        let mut conn = self.conn.clone();
        let ids: Vec<(String, f64)> = conn.zrange_withscores(self.key("dead"), 0, -1).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (id, _) in &ids {
            pipe.hmget(
                self.key(&format!("job:{id}")),
                &[
                    "payload",
                    "rank",
                    "stalls",
                    "failures",
                    "error",
                    "enqueued_at",
                ],
            );
        }
        let fields: Vec<Vec<Option<String>>> = pipe.query_async(&mut conn).await?;
        Ok(ids
            .into_iter()
            .zip(fields)
            .map(|((id, dead_at), f)| {
                let text = |i: usize| f.get(i).cloned().flatten().unwrap_or_default();
                let number = |i: usize| text(i).parse().unwrap_or(0);
                DeadJob {
                    id,
                    payload: text(0),
                    rank: number(1),
                    stalls: number(2),
                    failures: number(3),
                    error: text(4),
                    enqueued_at: number(5),
                    dead_at: dead_at as i64,
                }
            })
            .collect())
    }

    async fn replay(&self, id: &str) -> Result<bool, QueueError> {
        let rank: Option<i64> = self
            .conn
            .clone()
            .hget(self.key(&format!("job:{id}")), "rank")
            .await?;
        let now = now_ms();
        let order = self.order(now, rank.unwrap_or(Priority::Normal.rank()));
        let replayed: i64 = REPLAY
            .prepare_invoke()
            .arg(&self.keys)
            .arg(id)
            .arg(order)
            .arg(now)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(replayed == 1)
    }

    async fn forget_dead(&self, id: &str) -> Result<bool, QueueError> {
        let forgotten: i64 = FORGET_DEAD
            .prepare_invoke()
            .arg(&self.keys)
            .arg(id)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(forgotten == 1)
    }

    async fn purge_dead(&self) -> Result<Vec<String>, QueueError> {
        Ok(PURGE
            .prepare_invoke()
            .arg(&self.keys)
            .invoke_async(&mut self.conn.clone())
            .await?)
    }

    async fn reply(&self, id: &str, message: &str) -> Result<(), QueueError> {
        let key = self.key(&format!("reply:{id}"));
        let _: () = redis::pipe()
            .atomic()
            .rpush(&key, message)
            .ignore()
            .pexpire(&key, REPLY_TTL.as_millis() as i64)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn wait_reply(&self, id: &str, timeout: Duration) -> Result<Option<String>, QueueError> {
        self.blocking_pop(&self.key(&format!("reply:{id}")), timeout)
            .await
    }

    async fn ping(&self) -> bool {
        redis::cmd("PING")
            .query_async::<String>(&mut self.conn.clone())
            .await
            .is_ok()
    }
}
