#!/usr/bin/env bash
# HTTP Request throughput against a local mock that answers every request after 20 ms:
#   (a) 1,000 requests at options.maxConcurrency 50: wall time of the node vs the ideal
#       1000 / 50 * 20 ms = 400 ms;
#   (b) the same 1,000 through options.rateLimit 100 per second: the measured rate vs 100/s.
# The mock (python3 asyncio, 127.0.0.1) counts requests in flight and stamps arrivals, so the
# rate is measured where the requests land.
#
# Usage: bench/http.sh [runs]   (default 3; SLUICE_BIN=path uses that binary instead of a
# release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if [ -z "${SLUICE_BIN:-}" ]; then
  cargo build --release -q -p sluice-cli
fi
bin=${SLUICE_BIN:-${CARGO_TARGET_DIR:-target}/release/sluice}
work=$(mktemp -d)
trap 'kill $mock 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" <<'PY' &
import asyncio, json, sys, time
work = sys.argv[1]
stats = {"in_flight": 0, "max_in_flight": 0, "arrivals": []}
async def handle(reader, writer):
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            break
        if head.startswith(b"GET /stats"):
            body = json.dumps(stats).encode()
            stats.update(in_flight=0, max_in_flight=0, arrivals=[])
        else:
            stats["arrivals"].append(time.monotonic())
            stats["in_flight"] += 1
            stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
            await asyncio.sleep(0.020)
            stats["in_flight"] -= 1
            body = b'{"ok":true}'
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    open(work + "/port", "w").write(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
mock=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
port=$(cat "$work/port")

# Manual Trigger -> HTTP Request (GET per item); 1,000 items come with --input.
python3 - "$work" "$port" <<'PY'
import json, sys
work, port = sys.argv[1], sys.argv[2]
json.dump([{"n": i} for i in range(1000)], open(f"{work}/items.json", "w"))
def workflow(options):
    return {"name": "bench", "settings": {"executionOrder": "v1"},
            "nodes": [
              {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "position": [0, 0], "parameters": {}},
              {"name": "HTTP", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
               "position": [200, 0],
               "parameters": {"url": f"http://127.0.0.1:{port}/item", "options": options}}],
            "connections": {"Start": {"main": [[{"node": "HTTP", "type": "main", "index": 0}]]}}}
json.dump(workflow({"maxConcurrency": 50}), open(f"{work}/concurrency.json", "w"))
json.dump(workflow({"maxConcurrency": 50, "rateLimit": {"requests": 100, "per": 1000}}),
          open(f"{work}/limited.json", "w"))
PY

for case in concurrency limited; do
  for _ in $(seq "$runs"); do
    "$bin" run "$work/$case.json" --input "$work/items.json" --profile json \
      >/dev/null 2>"$work/profile.json"
    curl -s "http://127.0.0.1:$port/stats" >"$work/stats.json"
    python3 - "$case" "$work/profile.json" "$work/stats.json" <<'PY'
import json, sys
case = sys.argv[1]
profile = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
stats = json.load(open(sys.argv[3]))
node = next(n for n in profile["nodes"] if n["node"] == "HTTP")
ms = node["totalMs"]
arrivals = stats["arrivals"]
if case == "concurrency":
    print(f"maxConcurrency 50: 1000 requests in {ms:.0f} ms = {ms / 400:.2f}x the ideal 400 ms "
          f"(max in flight {stats['max_in_flight']}, requests counted {node['counters'].get('requests')})")
else:
    span = arrivals[-1] - arrivals[0]
    rate = (len(arrivals) - 1) / span
    print(f"rateLimit 100/s: 1000 requests, measured {rate:.2f}/s at the mock "
          f"({(rate / 100 - 1) * 100:+.2f}% vs 100/s; node {ms / 1000:.2f} s, "
          f"rateLimitWaitMs {node['counters'].get('rateLimitWaitMs')})")
PY
  done
done
