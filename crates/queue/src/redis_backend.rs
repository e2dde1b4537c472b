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
//!   `workers` (their reports), and `inbox:<random>`: a list per process that waits for replies
//!   (webhook answers workers relay, each `<job id>\n<message>`), which one task of that process
//!   drains in batches and hands to the request waiting for that job.
//!
//! Ordinary commands share one `ConnectionManager` (multiplexed, reconnecting); the blocking
//! BLPOP runs on connections of its own without a response timeout (redis-rs times out every
//! command after 500 ms by default, blocking ones included, and a blocking command would hold
//! up the commands queued behind it on a shared connection).

use crate::mailbox::Mailboxes;
use crate::{
    order_score, Backoff, Canceled, DeadJob, Enqueued, Job, Lease, Nack, Nacked, NewJob, Priority,
    Queue, QueueConfig, QueueError, Stats, WorkerStatus, RATE_WINDOW, REPLY_TTL,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncCommands, AsyncConnectionConfig, Client, Script};
use sluice_runtime::group_commit::GroupCommit;
use sluice_store::now_ms;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
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
    /// Enqueues made at the same time, merged into one `ENQUEUE_JOBS` call.
    enqueues: GroupCommit<[String; ENQUEUE_STRIDE], (String, String), QueueError>,
    /// Acknowledgements that take the next job, merged into one `ACK_AND_RESERVE_JOBS` call.
    acks_and_reserves: GroupCommit<AckAndReserve, (bool, Option<Job>), QueueError>,
    /// This process's inbox list (its reply address).
    inbox: String,
    /// Replies read from the inbox, until their waiters take them.
    mailboxes: Arc<Mailboxes>,
    /// The task draining the inbox, started by the first wait for a reply.
    inbox_reader: OnceLock<tokio::task::JoinHandle<()>>,
}

impl Drop for RedisQueue {
    fn drop(&mut self) {
        if let Some(reader) = self.inbox_reader.get() {
            reader.abort();
        }
    }
}

/// The most replies one read takes from an inbox.
const INBOX_BATCH: usize = 256;

/// A worker slot's acknowledgement of its job and request for the next one.
struct AckAndReserve {
    id: String,
    result: String,
    worker: String,
    lease: Duration,
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
        let keys = format!("{}:sluice", redis.prefix);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Ok(RedisQueue {
            inbox: format!("{keys}:inbox:{}-{random:016x}", std::process::id()),
            mailboxes: Arc::default(),
            inbox_reader: OnceLock::new(),
            enqueues: enqueue_batches(conn.clone(), keys.clone()),
            acks_and_reserves: ack_and_reserve_batches(conn.clone(), keys.clone(), &config),
            client,
            conn,
            blocking: tokio::sync::Mutex::new(Vec::new()),
            keys,
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

    /// The dead-lettered jobs `ids` (with the time each was dead-lettered), read in one pipeline.
    async fn dead_jobs_of(&self, ids: Vec<(String, f64)>) -> Result<Vec<DeadJob>, QueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
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

    /// Block until something is enqueued or `timeout` passes, on a connection of its own.
    async fn wait_for_wake(&self, timeout: Duration) -> Result<(), QueueError> {
        self.blocking_pop(&self.key("wake"), timeout)
            .await
            .map(drop)
    }

    /// A connection of its own for a blocking command (no response timeout).
    async fn blocking_connection(client: &Client) -> Result<MultiplexedConnection, QueueError> {
        Ok(client
            .get_multiplexed_async_connection_with_config(
                &AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(None),
            )
            .await?)
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
            None => Self::blocking_connection(&self.client).await?,
        };
        let seconds = timeout.as_secs_f64().max(0.01);
        let result: Result<Option<[String; 2]>, _> = conn.blpop(key, seconds).await;
        // A connection that failed is dropped; a new one is made next time.
        if result.is_ok() {
            self.blocking.lock().await.push(conn);
        }
        Ok(result?.map(|[_, value]| value))
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

/// Drain `inbox` into `mailboxes` for as long as the queue lives. A lost connection (Redis
/// restarting) is made again with growing pauses; replies pushed meanwhile wait in the list.
async fn read_inbox(client: Client, inbox: String, mailboxes: Arc<Mailboxes>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    loop {
        let Err(error) = drain_inbox(&client, &inbox, &mailboxes, &mut backoff).await;
        let pause = backoff.pause();
        tracing::warn!("cannot read replies from Redis ({error}); again in {pause:?}");
        tokio::time::sleep(pause).await;
    }
}

/// Deliver the replies of `inbox` until the connection fails: whatever is queued is taken in
/// batches of [`INBOX_BATCH`]; when it is empty, one blocking pop waits for the next reply.
async fn drain_inbox(
    client: &Client,
    inbox: &str,
    mailboxes: &Mailboxes,
    backoff: &mut Backoff,
) -> Result<std::convert::Infallible, QueueError> {
    let mut conn = RedisQueue::blocking_connection(client).await?;
    backoff.reset();
    loop {
        let queued: Option<Vec<String>> = redis::cmd("LPOP")
            .arg(inbox)
            .arg(INBOX_BATCH)
            .query_async(&mut conn)
            .await?;
        let replies = match queued {
            Some(replies) if !replies.is_empty() => replies,
            _ => {
                let next: Option<[String; 2]> = conn.blpop(inbox, 1.0).await?;
                next.map(|[_, reply]| vec![reply]).unwrap_or_default()
            }
        };
        for reply in replies {
            match reply.split_once('\n') {
                Some((id, message)) => mailboxes.deliver(id, message.to_string()),
                None => tracing::warn!("an unreadable reply in {inbox} was dropped"),
            }
        }
    }
}

/// The group commit of enqueues: `ENQUEUE_JOBS` with each request's arguments, answering each
/// with its two reply fields.
fn enqueue_batches(
    conn: ConnectionManager,
    keys: String,
) -> GroupCommit<[String; ENQUEUE_STRIDE], (String, String), QueueError> {
    GroupCommit::start(
        MAX_BATCH,
        MAX_BATCHES_IN_FLIGHT,
        move |jobs: Vec<[String; ENQUEUE_STRIDE]>| {
            let mut invocation = ENQUEUE_JOBS.prepare_invoke();
            invocation.arg(&keys).arg(ENQUEUE_STRIDE);
            for job in &jobs {
                invocation.arg(job.as_slice());
            }
            let mut conn = conn.clone();
            async move {
                let reply: Vec<String> = invocation.invoke_async(&mut conn).await?;
                expect_fields(&reply, jobs.len() * 2)?;
                Ok(reply
                    .chunks(2)
                    .map(|pair| (pair[0].clone(), pair[1].clone()))
                    .collect())
            }
        },
    )
}

/// The group commit of acknowledgements that reserve the next job: `ACK_AND_RESERVE_JOBS`,
/// answering each request with whether its result was recorded and its next job.
fn ack_and_reserve_batches(
    conn: ConnectionManager,
    keys: String,
    config: &QueueConfig,
) -> GroupCommit<AckAndReserve, (bool, Option<Job>), QueueError> {
    let retention = config.retention.as_millis() as i64;
    GroupCommit::start(
        MAX_BATCH,
        MAX_BATCHES_IN_FLIGHT,
        move |acks: Vec<AckAndReserve>| {
            let now = now_ms();
            let mut invocation = ACK_AND_RESERVE_JOBS.prepare_invoke();
            invocation
                .arg(&keys)
                .arg(now)
                .arg(retention)
                .arg(now / 1000)
                .arg(ACK_AND_RESERVE_STRIDE);
            for ack in &acks {
                invocation
                    .arg(&ack.id)
                    .arg(&ack.result)
                    .arg(&ack.worker)
                    .arg(now + ack.lease.as_millis() as i64);
            }
            let mut conn = conn.clone();
            async move {
                let reply: Vec<String> = invocation.invoke_async(&mut conn).await?;
                expect_fields(&reply, acks.len() * (1 + RESERVATION_FIELDS))?;
                let (recorded, reservations) = reply.split_at(acks.len());
                Ok(recorded
                    .iter()
                    .zip(reservations.chunks(RESERVATION_FIELDS))
                    .map(|(recorded, reservation)| (recorded == "1", leased(reservation).ok()))
                    .collect())
            }
        },
    )
}

/// A batch script's reply has one answer per request, or the batch fails.
fn expect_fields(reply: &[String], expected: usize) -> Result<(), QueueError> {
    if reply.len() == expected {
        Ok(())
    } else {
        Err(QueueError::Backend(format!(
            "a batch script answered {} fields where {expected} were expected",
            reply.len()
        )))
    }
}

/// A job from a reservation's fields (see `RESERVATION_FIELDS`), or when the next delayed job
/// is due (if any).
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

/// How many requests one group-commit script call takes at most, and how many such calls one
/// process has in flight at once.
const MAX_BATCH: usize = 64;
const MAX_BATCHES_IN_FLIGHT: usize = 1;

/// Arguments per job of `ENQUEUE_JOBS`, after the prefix and this stride.
const ENQUEUE_STRIDE: usize = 9;

/// Lua: enqueue jobs of `ARGV[2]` (`ENQUEUE_STRIDE`) arguments each (id, payload, rank, now,
/// ready time, order, dedup key, dedup TTL, queue bound), as many single enqueues in turn would:
/// the bound counts the jobs added before in the batch, a repeated id is a duplicate of the
/// first. One `ZADD` per set for the batch. Returns two fields per job: `'1', id` (added),
/// `'0', holder` (duplicate) or `'full', depth`.
static ENQUEUE_JOBS: LazyLock<Script> = lua!(
    r"
local waiting, delayed, replies = {}, {}, {}
local depth
local function enqueue_job(id, payload, rank, now, ready_at, order, dedup, ttl, bound)
  local key = job(id)
  if redis.call('EXISTS', key) == 1 then return '0', id end
  if bound ~= '' then
    depth = depth or redis.call('ZCARD', p .. ':waiting') + redis.call('ZCARD', p .. ':delayed')
    if depth >= tonumber(bound) then return 'full', tostring(depth) end
  end
  if dedup ~= '' then
    local holder = redis.call('GET', p .. ':dedup:' .. dedup)
    if holder then return '0', holder end
    redis.call('SET', p .. ':dedup:' .. dedup, id, 'PX', ttl)
  end
  redis.call('HSET', key, 'payload', payload, 'rank', rank, 'order', order,
    'ready_at', ready_at, 'enqueued_at', now, 'state', 'waiting', 'token', 0, 'stalls', 0,
    'failures', 0)
  local set = waiting
  if tonumber(ready_at) > tonumber(now) then set = delayed; order = ready_at end
  set[#set + 1] = order
  set[#set + 1] = id
  if depth then depth = depth + 1 end
  return '1', id
end
local stride = tonumber(ARGV[2])
for a = 3, #ARGV, stride do
  local status, value = enqueue_job(unpack(ARGV, a, a + stride - 1))
  replies[#replies + 1] = status
  replies[#replies + 1] = value
end
if #delayed > 0 then redis.call('ZADD', p .. ':delayed', unpack(delayed)) end
if #waiting > 0 then redis.call('ZADD', p .. ':waiting', unpack(waiting)) end
-- A delayed job wakes a waiting reservation too, which then waits until it is due.
if #waiting + #delayed > 0 then wake() end
return replies
"
);

/// Fields of one reservation in a reply: `'1', id, payload, rank, token, stalls, failures,
/// enqueued_at`, or `'0', next_due` (empty when nothing is delayed) padded with empty fields.
const RESERVATION_FIELDS: usize = 8;

/// Lua: lease up to one waiting job to each of `workers` (`{name, lease_until}` pairs; due
/// delayed jobs move to `waiting` first), with one `ZPOPMIN` and one `ZADD` for all of them.
/// Returns one reservation per worker, `RESERVATION_FIELDS` fields each, appended to `replies`.
const RESERVE_JOBS: &str = r"
local function reserve_jobs(workers, now, replies)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. ':delayed', '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('ZREM', p .. ':delayed', id)
    local order = redis.call('HGET', job(id), 'order')
    if order then redis.call('ZADD', p .. ':waiting', order, id) end
  end
  local popped = redis.call('ZPOPMIN', p .. ':waiting', #workers)
  local leases = {}
  for i = 1, #popped / 2 do
    local id = popped[2 * i - 1]
    local key = job(id)
    local f = redis.call('HMGET', key, 'payload', 'rank', 'stalls', 'failures', 'enqueued_at',
      'token')
    local token = tostring(tonumber(f[6]) + 1)
    redis.call('HSET', key, 'state', 'active', 'worker', workers[i][1], 'token', token)
    leases[#leases + 1] = workers[i][2]
    leases[#leases + 1] = id
    for _, field in ipairs({'1', id, f[1], f[2], token, f[3], f[4], f[5]}) do
      replies[#replies + 1] = field
    end
  end
  if #leases > 0 then redis.call('ZADD', p .. ':active', unpack(leases)) end
  if #popped / 2 < #workers then
    local next = redis.call('ZRANGE', p .. ':delayed', 0, 0, 'WITHSCORES')
    for _ = #popped / 2 + 1, #workers do
      for _, field in ipairs({'0', next[2] or '', '', '', '', '', '', ''}) do
        replies[#replies + 1] = field
      end
    end
  end
  return replies
end
";

/// Lua: record each job's result once: appends 1 to `replies`, or 0 for a job that already
/// ended. `entries` holds `{id, result}` pairs; one `ZREM` and one `INCRBY` for all of them.
const ACK_JOBS: &str = r"
local function ack_jobs(entries, now, retention, second, replies)
  local active, recorded = {}, 0
  for _, entry in ipairs(entries) do
    local id, key = entry[1], job(entry[1])
    local state = redis.call('HGET', key, 'state')
    local ok = state == 'active' or state == 'waiting'
    if state == 'active' then
      active[#active + 1] = id
    elseif state == 'waiting' then
      redis.call('ZREM', p .. ':waiting', id)
      redis.call('ZREM', p .. ':delayed', id)
    end
    if ok then
      -- What the retention keeps of a finished job: its state, result and end (not its payload).
      redis.call('DEL', key)
      redis.call('HSET', key, 'state', 'done', 'result', entry[2], 'finished_at', now)
      redis.call('PEXPIRE', key, retention)
      recorded = recorded + 1
      replies[#replies + 1] = '1'
    else
      replies[#replies + 1] = '0'
    end
  end
  if #active > 0 then redis.call('ZREM', p .. ':active', unpack(active)) end
  if recorded > 0 then
    local done = p .. ':done:' .. second
    if redis.call('INCRBY', done, recorded) == recorded then redis.call('EXPIRE', done, 60) end
  end
  return replies
end
";

static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        RESERVE_JOBS,
        "return reserve_jobs({{ARGV[2], ARGV[4]}}, ARGV[3], {})",
    ])
});

static ACK: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        ACK_JOBS,
        "return ack_jobs({{ARGV[2], ARGV[3]}}, ARGV[4], ARGV[5], ARGV[6], {})",
    ])
});

/// Arguments per acknowledgement of `ACK_AND_RESERVE_JOBS`: id, result, worker, lease end.
const ACK_AND_RESERVE_STRIDE: usize = 4;

/// Lua: acknowledgements of `ARGV[5]` (`ACK_AND_RESERVE_STRIDE`) arguments each, then a
/// reservation for each worker: `ACK_JOBS`' replies (one field each), then `RESERVE_JOBS`'
/// (`RESERVATION_FIELDS` each). `ARGV[2..=4]`: now, retention, the current second.
static ACK_AND_RESERVE_JOBS: LazyLock<Script> = LazyLock::new(|| {
    script(&[
        ACK_JOBS,
        RESERVE_JOBS,
        "local entries, workers = {}, {}
for a = 6, #ARGV, tonumber(ARGV[5]) do
  entries[#entries + 1] = {ARGV[a], ARGV[a + 1]}
  workers[#workers + 1] = {ARGV[a + 2], ARGV[a + 3]}
end
local replies = ack_jobs(entries, ARGV[2], ARGV[3], ARGV[4], {})
return reserve_jobs(workers, ARGV[2], replies)",
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
end
wake()
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
        let (status, value) = self
            .enqueues
            .call([
                new.id.clone(),
                new.payload,
                rank.to_string(),
                now.to_string(),
                ready_at.to_string(),
                self.order(ready_at, rank),
                dedup_key,
                ttl.to_string(),
                new.max_waiting.map_or(String::new(), |m| m.to_string()),
            ])
            .await?;
        Ok(match status.as_str() {
            "1" => Enqueued::Added,
            "full" => return Err(QueueError::Full(value.parse().unwrap_or(0))),
            _ => Enqueued::Duplicate(value),
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
        let now = now_ms();
        let reply: Vec<String> = ACK
            .prepare_invoke()
            .arg(&self.keys)
            .arg(&job.id)
            .arg(result)
            .arg(now)
            .arg(self.config.retention.as_millis() as i64)
            .arg(now / 1000)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(reply.first().map(String::as_str) == Some("1"))
    }

    async fn ack_and_reserve(
        &self,
        job: &Job,
        result: &str,
        worker: &str,
        lease: Duration,
    ) -> Result<(bool, Option<Job>), QueueError> {
        self.acks_and_reserves
            .call(AckAndReserve {
                id: job.id.clone(),
                result: result.to_string(),
                worker: worker.to_string(),
                lease,
            })
            .await
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
        let ids: Vec<(String, f64)> = self
            .conn
            .clone()
            .zrange_withscores(self.key("dead"), 0, -1)
            .await?;
        self.dead_jobs_of(ids).await
    }

    async fn dead_job(&self, id: &str) -> Result<Option<DeadJob>, QueueError> {
        let dead_at: Option<f64> = self.conn.clone().zscore(self.key("dead"), id).await?;
        let Some(dead_at) = dead_at else {
            return Ok(None);
        };
        Ok(self
            .dead_jobs_of(vec![(id.to_string(), dead_at)])
            .await?
            .pop())
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

    fn reply_address(&self) -> String {
        self.inbox.clone()
    }

    async fn reply(&self, to: &str, id: &str, message: &str) -> Result<(), QueueError> {
        if !to.starts_with(&self.key("inbox:")) {
            return Err(QueueError::Backend(format!(
                "job {id}: '{to}' is not a reply address of this queue"
            )));
        }
        let _: () = redis::pipe()
            .atomic()
            .rpush(to, format!("{id}\n{message}"))
            .ignore()
            .pexpire(to, REPLY_TTL.as_millis() as i64)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn wait_reply(&self, id: &str, timeout: Duration) -> Result<Option<String>, QueueError> {
        self.inbox_reader.get_or_init(|| {
            tokio::spawn(read_inbox(
                self.client.clone(),
                self.inbox.clone(),
                self.mailboxes.clone(),
            ))
        });
        Ok(self.mailboxes.take(id, timeout).await)
    }

    async fn ping(&self) -> bool {
        redis::cmd("PING")
            .query_async::<String>(&mut self.conn.clone())
            .await
            .is_ok()
    }
}
