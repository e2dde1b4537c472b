//! What the Redis backend keeps of a finished job for its retention period (an hour by default,
//! so that a second acknowledgement and a re-enqueue of the same id are refused): its state,
//! result and end, not its payload, which carries an execution's trigger items (up to 64 KiB).
//! At 2,000 jobs/s an hour of retention is 7.2 million jobs. Runs on the machine's Redis
//! (127.0.0.1:6379, a fresh key prefix, its keys deleted afterwards).

use redis::AsyncCommands;
use sluice_queue::{Enqueued, NewJob, Queue, QueueConfig, RedisConfig, RedisQueue};
use sluice_store::testing::RedisKeys;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_job_keeps_its_result_but_not_its_payload() {
    let prefix = format!(
        "sluice_test_retention_{}_{}",
        std::process::id(),
        sluice_store::now_ms()
    );
    let _keys = RedisKeys(prefix.clone());
    let redis = RedisConfig {
        url: "redis://127.0.0.1:6379/".into(),
        prefix: prefix.clone(),
    };
    let queue = RedisQueue::connect(&redis, QueueConfig::default())
        .await
        .expect("Redis answers at 127.0.0.1:6379");
    let payload = "x".repeat(10_000);
    for id in ["1", "2"] {
        queue
            .enqueue(NewJob::new(id, payload.clone()))
            .await
            .unwrap();
    }
    let lease = Duration::from_secs(30);
    let first = queue
        .reserve("w", lease, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.payload, payload);
    let (recorded, second) = queue
        .ack_and_reserve(&first, "success", "w", lease)
        .await
        .unwrap();
    assert!(recorded);
    let second = second.expect("the next job");
    assert!(queue.ack(&second, "error").await.unwrap());

    let mut conn = redis::Client::open(redis.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for (id, result) in [("1", "success"), ("2", "error")] {
        let key = format!("{prefix}:sluice:job:{id}");
        let kept: HashMap<String, String> = conn.hgetall(&key).await.unwrap();
        let mut fields: Vec<_> = kept.keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(fields, ["finished_at", "result", "state"], "job {id}");
        let ttl: i64 = conn.pttl(&key).await.unwrap();
        assert!(ttl > 3_500_000, "kept for the retention period: {ttl} ms");
        assert_eq!(queue.result(id).await.unwrap().as_deref(), Some(result));
    }
    assert!(!queue.ack(&second, "again").await.unwrap(), "recorded once");
    assert_eq!(
        queue.enqueue(NewJob::new("1", "again")).await.unwrap(),
        Enqueued::Duplicate("1".into()),
        "a finished id is refused while it is retained"
    );
}
