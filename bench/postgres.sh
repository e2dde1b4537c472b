#!/usr/bin/env bash
# Postgres node bulk writes against psql's \copy of the same rows, in the same script.
# 100k items (id bigint, name text, amount numeric, active boolean, created timestamptz) go into
# an empty table: by `psql \copy` (CSV, the baseline), by the Postgres node's insert (bulk
# statements returning the rows, and with `options.copyRows`: COPY, no rows back), and by its
# upsert over the same ids (every row conflicts and is updated). Prints rows/s per method (node
# time from `sluice run --profile json`, the COPY's from psql's own timing) and the ratios.
#
# Needs the local Postgres (127.0.0.1:5432, user postgres, database test, trust auth).
# Usage: bench/postgres.sh [runs] [rows]   (default 3 runs of 100000 rows; prints medians;
# SLUICE_BIN=path skips the release build and runs that binary)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
rows=${2:-100000}
if [ -z "${SLUICE_BIN:-}" ]; then
  cargo build --release -q -p sluice-cli
fi
bin=${SLUICE_BIN:-${CARGO_TARGET_DIR:-target}/release/sluice}
work=$(mktemp -d)
schema=sluice_bench_$$
psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d test "$@"; }
trap 'rm -rf "$work"; psql_run -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT

psql_run -c "CREATE SCHEMA $schema; CREATE TABLE $schema.items (id bigint PRIMARY KEY,
  name text, amount numeric(12,2), active boolean, created timestamptz)"

python3 - "$rows" "$work" "$schema" <<'PY'
import csv, json, sys
n, work, schema = int(sys.argv[1]), sys.argv[2], sys.argv[3]
items = [{"id": i, "name": f"customer {i}", "amount": round((i * 37) % 20000 / 100, 2),
          "active": i % 3 != 0, "created": f"2024-01-{1 + i % 28:02d}T10:{i % 60:02d}:00.000Z"}
         for i in range(n)]
json.dump(items, open(f"{work}/items.json", "w"))
with open(f"{work}/items.csv", "w", newline="") as f:
    w = csv.writer(f)
    for it in items:
        w.writerow([it["id"], it["name"], it["amount"], it["active"], it["created"]])
json.dump([{"id": "pg", "name": "Local Postgres", "type": "postgres",
            "data": {"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres",
                     "password": "", "ssl": "disable"}}], open(f"{work}/credentials.json", "w"))
for name, operation, options in (("insert", "insert", {}), ("upsert", "upsert", {}),
                                 ("copy", "insert", {"copyRows": True})):
    json.dump({
        "nodes": [
            {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"name": "Postgres", "type": "n8n-nodes-base.postgres", "typeVersion": 2.5,
             "position": [200, 0], "credentials": {"postgres": {"id": "pg", "name": "Local Postgres"}},
             "parameters": {
                 "operation": operation,
                 "schema": {"__rl": True, "mode": "list", "value": schema},
                 "table": {"__rl": True, "mode": "list", "value": "items"},
                 "columns": {"mappingMode": "autoMapInputData", "value": {},
                             "matchingColumns": ["id"]},
                 "options": options}}],
        "connections": {"Start": {"main": [[{"node": "Postgres", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"}}, open(f"{work}/{name}.json", "w"))
PY

copy_s=(); insert_s=(); upsert_s=(); wall_s=(); copy_rows_s=(); copy_wall_s=()
node_seconds() {
  python3 -c 'import json,sys
doc = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert doc["executionStatus"] == "success", doc
print(next(n["totalMs"] for n in doc["nodes"] if n["node"] == "Postgres") / 1000)' "$1"
}
for _ in $(seq "$runs"); do
  psql_run -c "TRUNCATE $schema.items"
  ms=$(psql_run -c '\timing on' -c "\\copy $schema.items FROM '$work/items.csv' WITH (FORMAT csv)" \
       | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
  copy_s+=("$(python3 -c "print($ms / 1000)")")

  psql_run -c "TRUNCATE $schema.items"
  /usr/bin/time -f '%e' -o "$work/time" "$bin" run "$work/insert.json" --input "$work/items.json" \
    --credentials "$work/credentials.json" --profile json >/dev/null 2>"$work/profile.json"
  insert_s+=("$(node_seconds "$work/profile.json")"); wall_s+=("$(cat "$work/time")")
  test "$(psql_run -tA -c "SELECT count(*) FROM $schema.items")" = "$rows"

  psql_run -c "TRUNCATE $schema.items"
  /usr/bin/time -f '%e' -o "$work/time" "$bin" run "$work/copy.json" --input "$work/items.json" \
    --credentials "$work/credentials.json" --profile json >/dev/null 2>"$work/profile.json"
  copy_rows_s+=("$(node_seconds "$work/profile.json")"); copy_wall_s+=("$(cat "$work/time")")
  test "$(psql_run -tA -c "SELECT count(*) FROM $schema.items")" = "$rows"

  "$bin" run "$work/upsert.json" --input "$work/items.json" \
    --credentials "$work/credentials.json" --profile json >/dev/null 2>"$work/profile.json"
  upsert_s+=("$(node_seconds "$work/profile.json")")
done

python3 - "$rows" "${copy_s[*]}" "${insert_s[*]}" "${upsert_s[*]}" "${wall_s[*]}" \
  "${copy_rows_s[*]}" "${copy_wall_s[*]}" <<'PY'
import sys, statistics as st
n = int(sys.argv[1])
copy, insert, upsert, wall, copy_rows, copy_wall = (sorted(map(float, a.split())) for a in sys.argv[2:8])
rate = lambda xs: n / st.median(xs)
print(f"{n} rows, median of {len(copy)} runs")
print(f"  psql \\copy (CSV)     {rate(copy):>10,.0f} rows/s")
print(f"  Postgres insert      {rate(insert):>10,.0f} rows/s  = {rate(insert) / rate(copy) * 100:.0f}% of COPY"
      f"  (whole sluice run: {st.median(wall):.2f} s)")
print(f"  insert, copyRows     {rate(copy_rows):>10,.0f} rows/s  = {rate(copy_rows) / rate(copy) * 100:.0f}% of COPY"
      f"  (whole sluice run: {st.median(copy_wall):.2f} s)")
print(f"  Postgres upsert      {rate(upsert):>10,.0f} rows/s  = {rate(upsert) / rate(copy) * 100:.0f}% of COPY"
      f"  (every row conflicts)")
PY
