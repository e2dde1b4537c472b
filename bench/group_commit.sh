#!/usr/bin/env bash
# The Postgres group commit (SLUICE_POSTGRES_GROUP_COMMIT) on the commonest n8n write: a webhook
# that stores each request's body with one INSERT and answers with the stored row. `sluice
# serve` (executions not saved) under `sluice bench` (closed loop, 50 connections) with the
# setting off and on, alternating; prints req/s, p50/p99 and the CPU Postgres' processes used
# per request, and the ratios of the medians.
# Needs the machine's Postgres (127.0.0.1:5432, database `test`, trust auth).
#
#   bench/group_commit.sh [duration=15s] [rounds=3]   (SLUICE_BIN=path runs that binary)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15s}
ROUNDS=${2:-3}
command -v psql >/dev/null || { echo "psql is missing" >&2; exit 2; }
if [ -z "${SLUICE_BIN:-}" ]; then
  cargo build --release -q -p sluice-cli
  SLUICE_BIN=${CARGO_TARGET_DIR:-target}/release/sluice
fi
WORK=$(mktemp -d)
SCHEMA=bench_group_commit_$$
PORT=${PORT:-5696}
SERVER_PID=
psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d test "$@"; }
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null || true
  psql_run -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql_run -c "CREATE SCHEMA $SCHEMA; CREATE TABLE $SCHEMA.hits (id bigserial PRIMARY KEY,
  body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"

cat >"$WORK/credentials.json" <<JSON
[{"id": "bench-postgres", "name": "Bench Postgres", "type": "postgres",
  "data": {"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres",
           "password": "", "ssl": "disable", "maxConnections": 20}}]
JSON
cat >"$WORK/workflow.json" <<JSON
{"id": "bench-group-commit", "name": "Store each request", "active": true,
 "nodes": [
  {"id": "1", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
   "position": [0, 0], "webhookId": "bench-group-commit",
   "parameters": {"httpMethod": "POST", "path": "store", "responseMode": "lastNode"}},
  {"id": "2", "name": "Store", "type": "n8n-nodes-base.postgres", "typeVersion": 2.5,
   "position": [200, 0],
   "credentials": {"postgres": {"id": "bench-postgres", "name": "Bench Postgres"}},
   "parameters": {"operation": "executeQuery",
     "query": "INSERT INTO $SCHEMA.hits (body) VALUES (\$1::jsonb) RETURNING id",
     "options": {"queryReplacement": "={{ [JSON.stringify(\$json.body)] }}"}}}],
 "connections": {"Webhook": {"main": [[{"node": "Store", "type": "main", "index": 0}]]}},
 "settings": {"executionOrder": "v1"}}
JSON
export SLUICE_DATA_DIR=$WORK/data SLUICE_LOG=warn N8N_ENCRYPTION_KEY=bench \
  EXECUTIONS_DATA_SAVE_ON_SUCCESS=none N8N_LISTEN_ADDRESS=127.0.0.1
"$SLUICE_BIN" credential import "$WORK/credentials.json" >/dev/null
"$SLUICE_BIN" workflow import "$WORK/workflow.json" --activate >/dev/null

postgres_ticks() { # CPU ticks of every postgres process now
  local total=0 pid
  for pid in $(pgrep -x postgres); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
url=http://127.0.0.1:$PORT/webhook/store
# run SETTING -> "req/s p50_ms p99_ms postgres_us_per_request"
run() {
  SLUICE_POSTGRES_GROUP_COMMIT=$1 "$SLUICE_BIN" serve --port "$PORT" >"$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf -o /dev/null -XPOST -H 'content-type: application/json' \
    -d '{"warm": true}' "$url" && break; sleep 0.1; done
  local before after
  before=$(postgres_ticks)
  "$SLUICE_BIN" bench "$url" --connections 50 --duration "$DURATION" \
    --body-template '{"order": "{{uuid}}", "amount": 150}' --json "$WORK/bench.json" \
    >"$WORK/bench.log" 2>&1 || { cat "$WORK/bench.log" >&2; exit 1; }
  after=$(postgres_ticks)
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  python3 - "$WORK/bench.json" "$before" "$after" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if r["errors"]:
    sys.exit(f"{r['errors']} errors")
us = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4]) * 1e6 / r["requests"]
l = r["latencyMs"]
print(f"{r['throughput']:.0f} {l['p50']:.2f} {l['p99']:.2f} {us:.0f}")
PY
}

declare -A R
for round in $(seq "$ROUNDS"); do
  for setting in false true; do R[$setting]+="$(run $setting)"$'\n'; done
done
echo "| group commit | req/s | p50 ms | p99 ms | Postgres CPU per request (us) |"
echo "|---|---|---|---|---|"
for setting in false true; do
  while read -r rps p50 p99 us; do
    [ -n "$rps" ] && echo "| $setting | $rps | $p50 | $p99 | $us |"
  done <<<"${R[$setting]}"
done
python3 - "${R[false]}" "${R[true]}" <<'PY'
import statistics as st, sys
off, on = ([list(map(float, l.split())) for l in a.strip().splitlines()] for a in sys.argv[1:3])
med = lambda rows, i: st.median(r[i] for r in rows)
print(f"medians: {med(off, 0):.0f} -> {med(on, 0):.0f} req/s ({med(on, 0) / med(off, 0):.2f}x), "
      f"Postgres {med(off, 3):.0f} -> {med(on, 3):.0f} us per request")
PY
stored=$(psql_run -At -c "SELECT count(*) FROM $SCHEMA.hits")
echo "rows stored: $stored"
