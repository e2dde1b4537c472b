#!/usr/bin/env bash
# A large file through the file nodes with `sluice run`:
#   Read/Write Files from Disk (read input.csv) -> Extract From File (CSV) -> Filter (amount > 100)
#   -> Convert to File (CSV) -> Read/Write Files from Disk (write output.csv)
# on a generated CSV of ROWS rows (default 1,000,000, about 40 MB; ROWS=10000000 for the ~1 GB
# version). Prints wall time, rows/s and peak RSS (/usr/bin/time -v), and checks that every
# kept row (and no other) is in the output file.
#
# With SINK=postgres the kept rows go through Set (numbers typed) into a Postgres table instead
# (Extract From File -> Filter -> Set -> Postgres insert; needs the local Postgres of
# bench/postgres.sh) and the script checks the table holds every kept row. With SINK=xlsx
# Convert to File writes an XLSX workbook (at most 1,048,575 rows fit a sheet), which a second
# run (timed on its own line) reads back with Extract From File into CSV for the same check.
#
# Extract From File reads the CSV as a stream and the item-wise chain after it runs in chunks
# (SLUICE_STREAM=auto, the default); Convert to File ends the chain as a sink that writes each
# chunk's rows to the file as they arrive, so neither sink holds the kept rows. Compare with
# SLUICE_STREAM=off, and N8N_DEFAULT_BINARY_DATA_MODE=filesystem against the default (memory).
#
# With SINK=sort the kept rows are sorted by amount (Sort, ascending, as text: CSV cells are
# strings) before Convert to File, and the script checks the file holds the kept rows in the
# order a stable sort by amount gives. In a streamed chain Sort holds up to
# SLUICE_SORT_MEMORY_MB (default 64) of rows and spills sorted runs to temporary files past it,
# merging them as the chain after it pulls the rows.
#
# Usage: [ROWS=n] [SINK=file|postgres|xlsx|sort] bench/large.sh   (SLUICE_BIN=path uses that binary
# instead of a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
if [ -z "${SLUICE_BIN:-}" ]; then
  nice cargo build --release -q -p sluice-cli
fi
bin=${SLUICE_BIN:-${CARGO_TARGET_DIR:-target}/release/sluice}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk -v n="$rows" 'BEGIN {
  print "id,name,amount,status"
  split("new paid failed refunded", statuses, " ")
  for (i = 0; i < n; i++) printf "%d,Customer %d,%d,%s\n", i, i, (i * 37) % 200, statuses[i % 4 + 1]
}' > "$work/input.csv"
echo "input: $rows rows, $(du -h "$work/input.csv" | cut -f1)"

sink=${SINK:-file}
schema=sluice_large_$$
psql_run() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d test "$@"; }
if [ "$sink" = postgres ]; then
  trap 'rm -rf "$work"; psql_run -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
  psql_run -c "CREATE SCHEMA $schema; CREATE TABLE $schema.rows (id bigint, name text,
    amount numeric, status text)"
  cat > "$work/credentials.json" <<JSON
[{"id": "pg", "name": "Local Postgres", "type": "postgres",
  "data": {"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres", "password": "", "ssl": "disable"}}]
JSON
  sink_nodes='{"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [800, 0],
   "parameters": {"assignments": {"assignments": [
     {"id": "1", "name": "id", "value": "={{ $json.id }}", "type": "number"},
     {"id": "2", "name": "amount", "value": "={{ $json.amount }}", "type": "number"}]},
     "includeOtherFields": true, "options": {}}},
  {"name": "Postgres", "type": "n8n-nodes-base.postgres", "typeVersion": 2.5, "position": [1000, 0],
   "credentials": {"postgres": {"id": "pg", "name": "Local Postgres"}},
   "parameters": {"operation": "insert", "schema": {"__rl": true, "mode": "list", "value": "'$schema'"},
     "table": {"__rl": true, "mode": "list", "value": "rows"},
     "columns": {"mappingMode": "autoMapInputData", "value": {}}, "options": {}}}'
  sink_connections='"Filter": {"main": [[{"node": "Set", "type": "main", "index": 0}]]},
  "Set": {"main": [[{"node": "Postgres", "type": "main", "index": 0}]]}'
  run_args=(--credentials "$work/credentials.json")
elif [ "$sink" = sort ]; then
  sink_nodes='{"name": "Sort", "type": "n8n-nodes-base.sort", "typeVersion": 1, "position": [700, 0],
   "parameters": {"sortFieldsUi": {"sortField": [{"fieldName": "amount"}]}, "options": {}}},
  {"name": "Convert", "type": "n8n-nodes-base.convertToFile", "typeVersion": 1.1, "position": [800, 0],
   "parameters": {"operation": "csv", "options": {}}},
  {"name": "Write", "type": "n8n-nodes-base.readWriteFile", "typeVersion": 1, "position": [1000, 0],
   "parameters": {"operation": "write", "fileName": "'$work'/output.csv", "options": {}}}'
  sink_connections='"Filter": {"main": [[{"node": "Sort", "type": "main", "index": 0}]]},
  "Sort": {"main": [[{"node": "Convert", "type": "main", "index": 0}]]},
  "Convert": {"main": [[{"node": "Write", "type": "main", "index": 0}]]}'
  run_args=()
else
  format=csv
  [ "$sink" = xlsx ] && format=xlsx
  sink_nodes='{"name": "Convert", "type": "n8n-nodes-base.convertToFile", "typeVersion": 1.1, "position": [800, 0],
   "parameters": {"operation": "'$format'", "options": {}}},
  {"name": "Write", "type": "n8n-nodes-base.readWriteFile", "typeVersion": 1, "position": [1000, 0],
   "parameters": {"operation": "write", "fileName": "'$work'/output.'$format'", "options": {}}}'
  sink_connections='"Filter": {"main": [[{"node": "Convert", "type": "main", "index": 0}]]},
  "Convert": {"main": [[{"node": "Write", "type": "main", "index": 0}]]}'
  run_args=()
fi

cat > "$work/large.json" <<JSON
{"name": "large file", "settings": {"executionOrder": "v1"},
 "nodes": [
  {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
  {"name": "Read", "type": "n8n-nodes-base.readWriteFile", "typeVersion": 1, "position": [200, 0],
   "parameters": {"fileSelector": "$work/input.csv", "options": {}}},
  {"name": "Extract", "type": "n8n-nodes-base.extractFromFile", "typeVersion": 1, "position": [400, 0],
   "parameters": {"operation": "csv", "options": {}}},
  {"name": "Filter", "type": "n8n-nodes-base.filter", "typeVersion": 2.2, "position": [600, 0],
   "parameters": {"conditions": {"options": {"caseSensitive": true, "leftValue": "", "typeValidation": "loose", "version": 2},
     "conditions": [{"id": "1", "leftValue": "={{ \$json.amount }}", "rightValue": 100, "operator": {"type": "number", "operation": "gt"}}],
     "combinator": "and"}, "looseTypeValidation": true, "options": {}}},
  $sink_nodes
 ],
 "connections": {
  "Start": {"main": [[{"node": "Read", "type": "main", "index": 0}]]},
  "Read": {"main": [[{"node": "Extract", "type": "main", "index": 0}]]},
  "Extract": {"main": [[{"node": "Filter", "type": "main", "index": 0}]]},
  $sink_connections
 }}
JSON

/usr/bin/time -v "$bin" run "$work/large.json" "${run_args[@]}" > /dev/null 2> "$work/time.txt" || {
  cat "$work/time.txt"; exit 1; }
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
seconds=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
awk -v r="$rows" -v s="$seconds" -v kb="$rss_kb" 'BEGIN {
  printf "wall %.2f s, %.0f rows/s, peak RSS %.0f MiB\n", s, r / s, kb / 1024 }'

# Every kept row, and no other, is in the output (the output starts with a BOM and has no
# final newline).
awk -F, 'NR > 1 && $3 > 100' "$work/input.csv" | sort > "$work/expected.txt"
if [ "$sink" = postgres ]; then
  psql_run -A -t -F, -c "COPY (SELECT id, name, amount, status FROM $schema.rows) TO STDOUT WITH CSV" \
    | sort > "$work/actual.txt"
  if cmp -s "$work/expected.txt" "$work/actual.txt"; then
    echo "ok: all $(wc -l < "$work/expected.txt") kept rows are in Postgres"; exit 0
  fi
  echo "FAIL: table rows differ from the kept rows"; diff "$work/expected.txt" "$work/actual.txt" | head; exit 1
fi
if [ "$sink" = xlsx ]; then
  cat > "$work/back.json" <<JSON
{"name": "xlsx back to csv", "settings": {"executionOrder": "v1"},
 "nodes": [
  {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
  {"name": "Read", "type": "n8n-nodes-base.readWriteFile", "typeVersion": 1, "position": [200, 0],
   "parameters": {"fileSelector": "$work/output.xlsx", "options": {}}},
  {"name": "Extract", "type": "n8n-nodes-base.extractFromFile", "typeVersion": 1, "position": [400, 0],
   "parameters": {"operation": "xlsx", "options": {}}},
  {"name": "Convert", "type": "n8n-nodes-base.convertToFile", "typeVersion": 1.1, "position": [600, 0],
   "parameters": {"operation": "csv", "options": {}}},
  {"name": "Write", "type": "n8n-nodes-base.readWriteFile", "typeVersion": 1, "position": [800, 0],
   "parameters": {"operation": "write", "fileName": "$work/output.csv", "options": {}}}
 ],
 "connections": {
  "Start": {"main": [[{"node": "Read", "type": "main", "index": 0}]]},
  "Read": {"main": [[{"node": "Extract", "type": "main", "index": 0}]]},
  "Extract": {"main": [[{"node": "Convert", "type": "main", "index": 0}]]},
  "Convert": {"main": [[{"node": "Write", "type": "main", "index": 0}]]}
 }}
JSON
  /usr/bin/time -v "$bin" run "$work/back.json" > /dev/null 2> "$work/back-time.txt" || {
    cat "$work/back-time.txt"; exit 1; }
  back_wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/back-time.txt")
  back_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/back-time.txt")
  echo "read back (Extract From File XLSX -> Convert to File CSV): wall $back_wall, peak RSS $((back_kb / 1024)) MiB"
fi
if [ "$sink" = sort ]; then
  # In the order a stable sort by amount (as text) gives, not just the same rows.
  awk -F, 'NR > 1 && $3 > 100' "$work/input.csv" | LC_ALL=C sort -s -t, -k3,3 > "$work/expected.txt"
  sed -e '1d' -e '$a\' "$work/output.csv" > "$work/actual.txt"
else
  sed -e '1d' -e '$a\' "$work/output.csv" | sort > "$work/actual.txt"
fi
header=$(head -n 1 "$work/output.csv" | sed 's/^\xEF\xBB\xBF//')
[ "$header" = "id,name,amount,status" ] || { echo "FAIL: output header is '$header'"; exit 1; }
if cmp -s "$work/expected.txt" "$work/actual.txt"; then
  echo "ok: all $(wc -l < "$work/expected.txt") kept rows are in the output"
else
  echo "FAIL: output rows differ from the kept rows"; diff "$work/expected.txt" "$work/actual.txt" | head; exit 1
fi
