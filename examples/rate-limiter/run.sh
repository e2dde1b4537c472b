#!/usr/bin/env bash
# Exercise 2: 1,000 API calls against an API that allows 100 a minute. Starts the stand-in API
# (`sluice dev upstream --rate-limit 100/m`) on a free port and runs workflow.json against it.
#   ./run.sh                   # the real thing: about 10 minutes
#   ./run.sh --time-scale 60   # a minute lasts a second: both limits 60x, about 10 seconds
# SLUICE names the binary (default: built with `cargo build --release`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scale=1
if [ "${1:-}" = "--time-scale" ]; then scale="$2"; fi
if [ -z "${SLUICE:-}" ]; then
  (cd "$here/../.." && cargo build --release -p sluice-cli)
  SLUICE="${CARGO_TARGET_DIR:-$here/../../target}/release/sluice"
fi
work="$(mktemp -d)"
trap 'kill "$upstream_pid" 2>/dev/null; rm -rf "$work"' EXIT
"$SLUICE" dev upstream --listen 127.0.0.1 --port 0 --rate-limit "$((100 * scale))/m" \
  >"$work/url" 2>/dev/null &
upstream_pid=$!
until [ -s "$work/url" ]; do sleep 0.1; done
url="$(head -1 "$work/url")"
# The workflow's bucket: 100 requests per 60,000 ms, scaled.
sed "s/\"per\": 60000/\"per\": $((60000 / scale))/" "$here/workflow.json" >"$work/workflow.json"
SLUICE_HTTP_CONNECT_TO="http://127.0.0.1:5679=$url" /usr/bin/time -f "%e s, %M KB peak RSS" \
  "$SLUICE" run "$work/workflow.json" --profile
echo "upstream: $(curl -s "$url/stats")"
