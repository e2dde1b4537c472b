//! No-op jobs through the Redis backend, for `bench/queue.sh`: `CLIENTS` producers enqueue
//! `JOBS` jobs while as many consumers reserve and acknowledge them as workers do (each job:
//! enqueue, then an ack that reserves the next job: two round trips while jobs are waiting).
//! Prints `jobs/s` over the time until the last job is acknowledged (consumers still waiting
//! for a job at that moment stop at the end of their wait, which is not counted).
//!
//!   queue_throughput [JOBS=20000] [CLIENTS=50] [REDIS_URL=redis://127.0.0.1:6379/]

use sluice_queue::{NewJob, Queue, QueueConfig, RedisConfig, RedisQueue};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let jobs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".into());
    let prefix = format!("sluice_bench_{}", std::process::id());
    let queue = Arc::new(
        RedisQueue::connect(
            &RedisConfig {
                url: url.clone(),
                prefix: prefix.clone(),
            },
            QueueConfig::default(),
        )
        .await
        .expect("Redis answers"),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let all_acked_after = Arc::new(OnceLock::new());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (producer, next) = (queue.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= jobs {
                    return;
                }
                producer
                    .enqueue(NewJob::new(n.to_string(), "{}"))
                    .await
                    .unwrap();
            }
        }));
        let (queue, acked, all_acked_after) =
            (queue.clone(), acked.clone(), all_acked_after.clone());
        tasks.push(tokio::spawn(async move {
            let name = format!("bench-{c}");
            let lease = Duration::from_secs(30);
            let mut held = None;
            while acked.load(Ordering::Relaxed) < jobs {
                let job = match held.take() {
                    Some(job) => job,
                    None => match queue
                        .reserve(&name, lease, Duration::from_millis(200))
                        .await
                        .unwrap()
                    {
                        Some(job) => job,
                        None => continue,
                    },
                };
                // As a worker does: acknowledge and take the next job in one step.
                let (_, next) = queue.ack_and_reserve(&job, "", &name, lease).await.unwrap();
                if acked.fetch_add(1, Ordering::Relaxed) + 1 == jobs {
                    let _ = all_acked_after.set(started.elapsed());
                }
                held = next;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = all_acked_after.get().expect("every job acknowledged");
    println!("{:.0}", jobs as f64 / elapsed.as_secs_f64());
    // Leave nothing behind.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::Script::new(
        "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end",
    )
    .arg(format!("{prefix}:*"))
    .invoke_async(&mut conn)
    .await
    .unwrap();
}
