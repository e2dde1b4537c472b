#!/usr/bin/env bash
# Webhook throughput: `sluice serve` running ../shared/bench/webhook-respond.json (Webhook -> Set
# -> Respond to Webhook, executions saved to SQLite) against a bare axum handler that parses the
# same JSON, both under wrk in this script. Prints req/s, p99, peak RSS and the ratios.
#
#   bench/webhook.sh [duration=20s]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20s}
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install -y wrk)" >&2; exit 2; }
. bench/lib/wrk.sh
# (Two commands: `--example` limits a build to examples, the binary would be left stale.)
cargo build --release -q -p sluice-cli
cargo build --release -q -p sluice-server --example bare_axum
SLUICE=target/release/sluice
BARE=target/release/examples/bare_axum
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
rss_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# run PORT CONNECTIONS -> "rps p99_ms"
run() { wrk_post "http://127.0.0.1:$1/webhook/bench" "$2" "$DURATION" '{"amount": 150}'; }

declare -A R
$BARE 5699 & SERVER_PID=$!; wait_port 5699
curl -sf -XPOST -H 'content-type: application/json' -d '{"amount":150}' http://127.0.0.1:5699/webhook/bench >/dev/null
for c in 10 50; do R[bare_$c]=$(run 5699 $c); done
R[bare_rss]=$(rss_mb $SERVER_PID); kill $SERVER_PID; wait $SERVER_PID 2>/dev/null || true

export SLUICE_DATA_DIR=$WORK/data SLUICE_LOG=warn
$SLUICE workflow import ../shared/bench/webhook-respond.json --activate >/dev/null
$SLUICE serve --listen 127.0.0.1 --port 5698 & SERVER_PID=$!; wait_port 5698
curl -sf -XPOST -H 'content-type: application/json' -d '{"amount":150}' http://127.0.0.1:5698/webhook/bench >/dev/null
for c in 10 50; do R[sluice_$c]=$(run 5698 $c); done
R[sluice_rss]=$(rss_mb $SERVER_PID); kill $SERVER_PID; wait $SERVER_PID 2>/dev/null || true
SERVER_PID=
SAVED=$($SLUICE execution count --status success)

echo "| target | c | req/s | p99 ms | peak RSS MB |"
echo "|---|---|---|---|---|"
for c in 10 50; do
  read -r brps bp99 <<<"${R[bare_$c]}"; read -r srps sp99 <<<"${R[sluice_$c]}"
  echo "| bare axum | $c | $brps | $bp99 | ${R[bare_rss]} |"
  echo "| sluice serve | $c | $srps | $sp99 | ${R[sluice_rss]} |"
  awk -v s="$srps" -v b="$brps" -v c="$c" -v n="${N8N_RPS:-115}" 'BEGIN {printf "ratios c=%s: sluice/bare %.1f%%, sluice/n8n(%s req/s) %.0fx\n", c, 100*s/b, n, s/n}'
done
echo "executions saved (status success): $SAVED"
