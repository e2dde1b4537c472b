#!/usr/bin/env bash
# Start the orders example on this machine: Postgres and Redis (started if they are not running),
# the stand-in external APIs (`sluice dev upstream`), one main process (`sluice serve`) and three
# workers (`sluice worker`), all in queue mode. `./stop.sh` stops what this script started.
#
# Settings (environment): PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres), ORDERS_DB
# (sluice_orders), REDIS_HOST/REDIS_PORT (127.0.0.1/6379), PORT (5678, the main process),
# UPSTREAM_PORT (5679), UPSTREAM_ARGS (extra `sluice dev upstream` flags, e.g. --error-rate 1%),
# WORKERS (3), WORKER_CONCURRENCY (32), TOKIO_WORKER_THREADS (threads per Sluice process, 1:
# four processes share the machine with Postgres and Redis), SLUICE_POSTGRES_GROUP_COMMIT (true:
# the intakes' inserts into the inbox share transactions), STATE_DIR (logs, pids; /tmp/sluice-orders),
# SLUICE (the binary; default: built with `cargo build --release`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
db="${ORDERS_DB:-sluice_orders}"
redis_host="${REDIS_HOST:-127.0.0.1}" redis_port="${REDIS_PORT:-6379}"
port="${PORT:-5678}" upstream_port="${UPSTREAM_PORT:-5679}"
workers="${WORKERS:-3}" concurrency="${WORKER_CONCURRENCY:-32}"
state="${STATE_DIR:-/tmp/sluice-orders}"
mkdir -p "$state"

if [ -z "${SLUICE:-}" ]; then
  (cd "$root" && cargo build --release -p sluice-cli)
  SLUICE="${CARGO_TARGET_DIR:-$root/target}/release/sluice"
fi

# Postgres and Redis: use the running ones, else start the system's.
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  echo "starting Postgres"; service postgresql start >/dev/null
fi
if ! redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --port "$redis_port" --appendonly yes --dir "$state" --daemonize yes \
    --pidfile "$state/redis.pid" >/dev/null
  touch "$state/redis.started"
fi
for _ in $(seq 50); do redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

psql -q -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
  || psql -q -d postgres -c "CREATE DATABASE $db"
psql -q -d "$db" -v ON_ERROR_STOP=1 -f "$here/schema.sql"

# Every Sluice process: queue mode, the store in schema `sluice` of the same database.
export EXECUTIONS_MODE=queue DB_TYPE=postgresdb DB_POSTGRESDB_HOST="$PGHOST" \
  DB_POSTGRESDB_PORT="$PGPORT" DB_POSTGRESDB_USER="$PGUSER" DB_POSTGRESDB_DATABASE="$db" \
  DB_POSTGRESDB_SCHEMA=sluice QUEUE_BULL_REDIS_HOST="$redis_host" \
  QUEUE_BULL_REDIS_PORT="$redis_port" QUEUE_BULL_PREFIX="${QUEUE_BULL_PREFIX:-orders}" \
  N8N_ENCRYPTION_KEY="${N8N_ENCRYPTION_KEY:-orders-example-key-change-me}" \
  SLUICE_HTTP_CONNECT_TO="http://127.0.0.1:5679=http://127.0.0.1:$upstream_port" \
  EXECUTIONS_DATA_SAVE_ON_SUCCESS="${EXECUTIONS_DATA_SAVE_ON_SUCCESS:-all}" \
  TOKIO_WORKER_THREADS="${TOKIO_WORKER_THREADS:-1}" \
  SLUICE_POSTGRES_GROUP_COMMIT="${SLUICE_POSTGRES_GROUP_COMMIT:-true}"

start() { # name, command...
  local name="$1"; shift
  "$@" >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
}

# shellcheck disable=SC2086
start upstream "$SLUICE" dev upstream --listen 127.0.0.1 --port "$upstream_port" ${UPSTREAM_ARGS:-}

sed -e "s/\"database\": \"sluice_orders\"/\"database\": \"$db\"/" \
    -e "s/\"host\": \"127.0.0.1\", \"port\": 5432/\"host\": \"$PGHOST\", \"port\": $PGPORT/" \
    -e "s/\"host\": \"127.0.0.1\", \"port\": 6379/\"host\": \"$redis_host\", \"port\": $redis_port/" \
    "$here/credentials.json" >"$state/credentials.json"
"$SLUICE" credential import "$state/credentials.json" >/dev/null
"$SLUICE" workflow import "$here/intake.json" --activate >/dev/null
"$SLUICE" workflow import "$here/process-batch.json" >/dev/null
"$SLUICE" workflow import "$here/process.json" --activate >/dev/null
"$SLUICE" workflow import "$here/notify.json" --activate >/dev/null

start main "$SLUICE" serve --listen 127.0.0.1 --port "$port"
for n in $(seq "$workers"); do
  QUEUE_HEALTH_CHECK_ACTIVE=true QUEUE_HEALTH_CHECK_PORT=$((port + 10 + n)) \
    start "worker$n" "$SLUICE" worker --concurrency "$concurrency"
done
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz/readiness" >/dev/null && break; sleep 0.1; done

cat <<INFO
orders example running (logs and pids in $state):
  main     http://127.0.0.1:$port   (pid $(cat "$state/main.pid"))
  workers  $workers x concurrency $concurrency (health on ports $((port + 11))-$((port + 10 + workers)))
  upstream http://127.0.0.1:$upstream_port/stats
send an order:
  curl -s -XPOST http://127.0.0.1:$port/webhook/orders -H 'Content-Type: application/json' \\
    -d '{"id": "o-1", "customerId": 7, "shipping": "express", "items": [{"sku": "A-1", "quantity": 2, "unitPrice": 19.99}]}'
stop it: $here/stop.sh
INFO
