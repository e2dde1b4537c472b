#!/usr/bin/env bash
# Stop what ./start.sh started: workers first (they finish or hand back their running jobs),
# then the main process and the stand-in APIs; Redis only if start.sh started it. Postgres keeps
# running.
set -uo pipefail
state="${STATE_DIR:-/tmp/sluice-orders}"
stop() { # pid files: SIGTERM to all, 10 s to exit, then SIGKILL
  local pids=() file pid
  for file in "$@"; do
    [ -f "$file" ] || continue
    pid="$(cat "$file")"; rm -f "$file"
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}
stop "$state"/worker*.pid
stop "$state/main.pid" "$state/upstream.pid"
if [ -f "$state/redis.started" ]; then stop "$state/redis.pid"; rm -f "$state/redis.started"; fi
echo "orders example stopped"
