#!/usr/bin/env bash
# Endurance. `sluice serve` (SQLite store) under webhook load at half its measured capacity for
# MINUTES minutes, while a schedule fires every second and fails into an error workflow. After
# each minute it samples the server's RSS, open file descriptors and threads and the minute's
# p99; at the end it compares the last minute with the first: RSS within 10%, no descriptor or
# thread growth (beyond two threads of tokio's on-demand blocking pool), p99 at most twice the
# first minute's. Exit 1 when one of them is missed.
#
#   bench/soak.sh [minutes=10] [rate=half of the measured capacity]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
RATE=${2:-}
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 2; }
if [ -z "${SLUICE_BIN:-}" ]; then cargo build --release -q -p sluice-cli; fi
SLUICE=${SLUICE_BIN:-target/release/sluice}
WORK=$(mktemp -d)
PORT=${SOAK_PORT:-5691}
URL=http://127.0.0.1:$PORT/webhook/bench
export SLUICE_DATA_DIR=$WORK/data SLUICE_LOG=warn
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/on-error.json" <<'JSON'
{"id": "soakOnError", "name": "soak on error", "nodes": [
  {"name": "Error Trigger", "type": "n8n-nodes-base.errorTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
  {"name": "Note", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0],
   "parameters": {"mode": "manual", "assignments": {"assignments": [
     {"id": "1", "name": "failed", "type": "string", "value": "={{ $json.execution.error.message }}"}]}, "options": {}}}
], "connections": {"Error Trigger": {"main": [[{"node": "Note", "type": "main", "index": 0}]]}}}
JSON
cat > "$WORK/ticking.json" <<'JSON'
{"id": "soakTicking", "name": "soak ticking", "settings": {"executionOrder": "v1", "errorWorkflow": "soakOnError"}, "nodes": [
  {"name": "Every second", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2, "position": [0, 0],
   "parameters": {"rule": {"interval": [{"field": "seconds", "secondsInterval": 1}]}}},
  {"name": "Fail", "type": "n8n-nodes-base.stopAndError", "typeVersion": 1, "position": [200, 0],
   "parameters": {"errorMessage": "a scheduled failure"}}
], "connections": {"Every second": {"main": [[{"node": "Fail", "type": "main", "index": 0}]]}}}
JSON
$SLUICE workflow import ../shared/bench/webhook-respond.json --activate >/dev/null
$SLUICE workflow import "$WORK/on-error.json" >/dev/null
$SLUICE workflow import "$WORK/ticking.json" --activate >/dev/null
$SLUICE serve --listen 127.0.0.1 --port "$PORT" 2>"$WORK/serve.log" & SERVER=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done

BODY='{"amount": {{n}}, "id": "{{uuid}}"}'
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
if [ -z "$RATE" ]; then
  $SLUICE bench "$URL" --connections 50 --duration 10s --body-template "$BODY" --json "$WORK/capacity.json" >/dev/null
  CAPACITY=$(field "$WORK/capacity.json" "round(r['throughput'])")
  RATE=$((CAPACITY / 2))
  echo "capacity (50 connections, 10 s): $CAPACITY req/s; soaking at $RATE req/s for $MINUTES min"
fi

sample() { # -> "rss_mb fds threads"
  local rss threads fds
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER/status")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$SERVER/status")
  fds=$(ls "/proc/$SERVER/fd" | wc -l)
  echo "$rss $fds $threads"
}
echo "| minute | req/s | errors | p99 ms | RSS MB | fds | threads |"
echo "|---|---|---|---|---|---|---|"
declare -a RSS FDS THREADS P99
for m in $(seq "$MINUTES"); do
  $SLUICE bench "$URL" --rate "$RATE" --duration 60s --body-template "$BODY" --json "$WORK/m$m.json" >/dev/null
  read -r RSS[m] FDS[m] THREADS[m] <<<"$(sample)"
  P99[m]=$(field "$WORK/m$m.json" "r['latencyMs']['p99']")
  echo "| $m | $(field "$WORK/m$m.json" "round(r['throughput'])") | $(field "$WORK/m$m.json" "r['errors']") | ${P99[m]} | ${RSS[m]} | ${FDS[m]} | ${THREADS[m]} |"
done
EXECUTIONS=$($SLUICE execution count --workflow soakOnError 2>/dev/null || echo "?")
echo "error-workflow executions: $EXECUTIONS"

FAILED=0
verdict() { if [ "$2" = 1 ]; then echo "ok:     $1"; else echo "MISSED: $1"; FAILED=1; fi; }
last=$MINUTES
verdict "RSS ${RSS[last]} MB within 10% of minute 1's ${RSS[1]} MB" \
  "$(awk -v a="${RSS[1]}" -v b="${RSS[last]}" 'BEGIN {print (b <= a * 1.1) ? 1 : 0}')"
verdict "open descriptors ${FDS[last]} <= minute 1's ${FDS[1]} + 8" \
  "$([ "${FDS[last]}" -le $((FDS[1] + 8)) ] && echo 1 || echo 0)"
# tokio's blocking pool starts threads on demand and ends them after 10 s idle: a thread or two
# more at one sample is load, not a leak.
verdict "threads ${THREADS[last]} <= minute 1's ${THREADS[1]} + 2" \
  "$([ "${THREADS[last]}" -le $((THREADS[1] + 2)) ] && echo 1 || echo 0)"
verdict "p99 ${P99[last]} ms <= 2x minute 1's ${P99[1]} ms" \
  "$(awk -v a="${P99[1]}" -v b="${P99[last]}" 'BEGIN {print (b <= 2 * a || b <= 5) ? 1 : 0}')"
exit $FAILED
