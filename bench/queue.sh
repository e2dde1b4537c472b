#!/usr/bin/env bash
# Queue mode. (a) No-op jobs/s through the Redis backend (enqueue + reserve + ack, 50 clients)
# against `redis-benchmark -t lpush` (50 clients, no pipelining) on the same Redis, in this
# script. (b) ../shared/bench/webhook-respond.json in queue mode (Postgres store, Redis queue):
# main + 1 worker and main + 2 workers under wrk (or `sluice bench`, closed loop) at 10 and 50
# connections; idle worker RSS.
# Needs the machine's Redis (127.0.0.1:6379) and Postgres (127.0.0.1:5432, database `test`).
#
#   bench/queue.sh [duration=20s] [jobs=20000]   (WORKER_CONCURRENCY: jobs per worker, default 10
#   as n8n's N8N_CONCURRENCY_PRODUCTION_LIMIT; LOAD=wrk|sluice: the load generator, wrk when
#   installed)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20s}
JOBS=${2:-20000}
CONCURRENCY=${WORKER_CONCURRENCY:-10}
LOAD=${LOAD:-$(command -v wrk >/dev/null && echo wrk || echo sluice)}
for tool in redis-benchmark psql python3; do
  command -v $tool >/dev/null || { echo "$tool is missing" >&2; exit 2; }
done
# SLUICE_BIN=path runs that binary (and examples/queue_throughput beside it) without building.
if [ -z "${SLUICE_BIN:-}" ]; then
  # (Two commands: `--example` limits a build to examples, the binary would be left stale.)
  cargo build --release -q -p sluice-cli
  cargo build --release -q -p sluice-queue --example queue_throughput
  SLUICE_BIN=${CARGO_TARGET_DIR:-target}/release/sluice
fi
SLUICE=$SLUICE_BIN
RELEASE=$(dirname "$SLUICE_BIN")
WORK=$(mktemp -d)
SCHEMA=bench_queue_$$
PREFIX=sluice_bench_$$
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres test -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 "$PREFIX:*" >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# (a) queue operations against LPUSH.
LPUSH=$(redis-benchmark -h 127.0.0.1 -t lpush -n 200000 -c 50 -q | tr '\r' '\n' | awk '/requests per second/ {print $2}')
QUEUED=$($RELEASE/examples/queue_throughput "$JOBS" 50)
echo "redis-benchmark -t lpush (50 clients, unpipelined): $LPUSH ops/s"
echo "no-op jobs through the Redis queue (enqueue, ack + reserve next; 50 clients): $QUEUED jobs/s"
awk -v q="$QUEUED" -v l="$LPUSH" 'BEGIN {printf "ratio jobs/s : lpush ops/s = %.1f%% (each job: an enqueue and an ack that reserves the next, 2 scripted round trips)\n", 100*q/l}'

# (b) webhooks in queue mode.
export DB_TYPE=postgresdb DB_POSTGRESDB_HOST=127.0.0.1 DB_POSTGRESDB_DATABASE=test \
  DB_POSTGRESDB_USER=postgres DB_POSTGRESDB_SCHEMA=$SCHEMA N8N_ENCRYPTION_KEY=bench \
  EXECUTIONS_MODE=queue SLUICE_REDIS_URL=redis://127.0.0.1:6379/ QUEUE_BULL_PREFIX=$PREFIX \
  SLUICE_LOG=warn QUEUE_HEALTH_CHECK_ACTIVE=true N8N_LISTEN_ADDRESS=127.0.0.1
SLUICE_DATA_DIR=$WORK/main $SLUICE workflow import ../shared/bench/webhook-respond.json --activate >/dev/null

wait_url() { for _ in $(seq 200); do curl -sf -o /dev/null "$1" && return; sleep 0.1; done; echo "$1 not up" >&2; exit 1; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
. bench/lib/wrk.sh
# run CONNECTIONS -> "rps p99_ms"
run() {
  if [ "$LOAD" = wrk ]; then
    wrk_post http://127.0.0.1:5697/webhook/bench "$1" "$DURATION" '{"amount": 150}'
    return
  fi
  local report=$WORK/bench-$1.json
  $SLUICE bench http://127.0.0.1:5697/webhook/bench --connections "$1" --duration "$DURATION" \
    --body-template '{"amount": 150}' --json "$report" >/dev/null
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); e=r['errors']
if e: print(f'c=$1: {e} errors: {r[\"statusCodes\"]}', file=sys.stderr)
print(round(r['throughput']), r['latencyMs']['p99'])" "$report"
}

SLUICE_DATA_DIR=$WORK/main $SLUICE serve --listen 127.0.0.1 --port 5697 & PIDS+=($!)
wait_url http://127.0.0.1:5697/healthz
QUEUE_HEALTH_CHECK_PORT=5695 SLUICE_DATA_DIR=$WORK/w1 $SLUICE worker --concurrency "$CONCURRENCY" & W1=$!; PIDS+=($W1)
wait_url http://127.0.0.1:5695/healthz/readiness
sleep 1
IDLE_RSS=$(rss_mb $W1)
curl -sf -XPOST -H 'content-type: application/json' -d '{"amount":150}' http://127.0.0.1:5697/webhook/bench >/dev/null
declare -A R
for c in 10 50; do R[w1_$c]=$(run $c); done
QUEUE_HEALTH_CHECK_PORT=5696 SLUICE_DATA_DIR=$WORK/w2 $SLUICE worker --concurrency "$CONCURRENCY" & PIDS+=($!)
wait_url http://127.0.0.1:5696/healthz/readiness
for c in 10 50; do R[w2_$c]=$(run $c); done
BUSY_RSS=$(rss_mb $W1)

echo
echo "load generator: $LOAD, $DURATION per run, worker concurrency $CONCURRENCY"
echo "| setup | c | req/s | p99 ms |"
echo "|---|---|---|---|"
for w in 1 2; do for c in 10 50; do
  read -r rps p99 <<<"${R[w${w}_$c]}"
  echo "| main + $w worker(s) | $c | $rps | $p99 |"
done; done
echo "worker RSS: idle $IDLE_RSS MB, after the runs $BUSY_RSS MB"
read -r rps _ <<<"${R[w2_50]}"
awk -v s="$rps" -v n="${N8N_RPS:-108}" 'BEGIN {printf "main + 2 workers at c=50 vs n8n queue mode (%s req/s): %.0fx\n", n, s/n}'
