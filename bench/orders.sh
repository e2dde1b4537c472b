#!/usr/bin/env bash
# The orders example (examples/orders) under load: start.sh's system (main + 3 workers +
# `sluice dev upstream` injecting 1% errors) on its own database and Redis prefix, then
# `sluice bench` posting orders at a fixed rate. Prints the intake's latency and errors (the
# 202 answers), then what processing achieved: orders stored, the sustained processing rate
# (stored orders over the span from first to last processed), the processing lag after the
# load stopped, and each process's peak RSS; the course's targets and the issue's goals are
# checked by `--check`.
#
#   bench/orders.sh [rate=1000] [duration=60s]   (start.sh's settings apply: WORKERS=2 ...;
#   SLUICE_BIN=path runs that binary instead of building target/release/sluice)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-1000}
DURATION=${2:-60s}
if [ -z "${SLUICE_BIN:-}" ]; then
  cargo build --release -q -p sluice-cli
  SLUICE_BIN=${CARGO_TARGET_DIR:-target}/release/sluice
fi
export SLUICE="$SLUICE_BIN"
export STATE_DIR=$(mktemp -d) ORDERS_DB=bench_orders_$$ QUEUE_BULL_PREFIX=bench_orders_$$ \
  PORT=${PORT:-5878} UPSTREAM_PORT=${UPSTREAM_PORT:-5879} UPSTREAM_ARGS="--error-rate 1% --seed 1" \
  EXECUTIONS_DATA_SAVE_ON_SUCCESS=none
cleanup() {
  local status=$?
  examples/orders/stop.sh >/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $ORDERS_DB WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 "$QUEUE_BULL_PREFIX:*" >/dev/null || true
  # The processes' logs: kept when the run failed, to read why.
  if [ "$status" -eq 0 ]; then rm -rf "$STATE_DIR"; else echo "logs: $STATE_DIR" >&2; fi
}
trap cleanup EXIT
examples/orders/start.sh >/dev/null
pids=()
processes="main $(seq -s " " -f "worker%g" "${WORKERS:-3}")"
for name in $processes; do pids+=(--pid "$(cat "$STATE_DIR/$name.pid")"); done
customers=$(seq -s, 1 200)
"$SLUICE" bench "http://127.0.0.1:$PORT/webhook/orders" --rate "$RATE" --duration "$DURATION" \
  --connections 512 \
  --body-template "{\"id\": \"b-{{uuid}}\", \"customerId\": {{random:$customers}}, \"shipping\": \"{{random:express,standard,standard,economy}}\", \"items\": [{\"sku\": \"A-1\", \"quantity\": 2, \"unitPrice\": 19.99}, {\"sku\": \"B-2\", \"quantity\": 1, \"unitPrice\": 5.5}]}" \
  "${pids[@]}" --queue-metrics "http://127.0.0.1:$PORT/metrics" --json "bench-orders.json" --html "bench-orders.html" \
  --check --target-p99-ms 100 --target-error-rate 0.1% --target-rss-mb 50 || true
ended=$(date +%s.%N)
sql() { psql -At -h 127.0.0.1 -U postgres -d "$ORDERS_DB" -c "$1"; }
last=-1
while true; do # until processing stops moving
  now=$(sql "SELECT count(*) FROM orders")
  [ "$now" = "$last" ] && break
  last=$now; sleep 2
done
sql "SELECT 'stored orders: ' || count(*) || ', processed per second (first to last): ' ||
            round(count(*) / greatest(extract(epoch FROM max(processed_at) - min(processed_at)), 0.001))::text ||
            ', lag after the load stopped: ' ||
            round(extract(epoch FROM max(processed_at)) - $ended, 2)::text || ' s, notified: ' ||
            count(notified_at) FROM orders"
for name in $processes; do
  echo "$name peak RSS: $(grep VmHWM /proc/"$(cat "$STATE_DIR/$name.pid")"/status | awk '{print $2/1024 " MiB"}')"
done
echo "report: bench-orders.html, bench-orders.json"
