#!/usr/bin/env bash
# Engine benchmark on n8n's CLI workflows (../shared/bench/cli-10k.json and cli-100k.json):
# Manual Trigger -> Code (N items) -> IF amount > 100 -> Set flagged -> NoOp.
# Prints engine time (sum of node times), process wall time, items/s and peak RSS, with ratios
# against n8n 2.8.4 measured on the same machine kind (../shared/bench/README.md).
#
# Usage: bench/cli.sh [runs]   (default 3 runs per size; prints min/median/max)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shared=${SLUICE_SHARED:-../shared}
cargo build --release -q -p sluice-cli
bin=target/release/sluice
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# n8n's figures (engine seconds, peak RSS MiB) from ../shared/bench/README.md.
declare -A n8n_engine=([10k]=1.57 [100k]=6.52)
declare -A n8n_rss=([10k]=376 [100k]=816)

for size in 10k 100k; do
  wf="$shared/bench/cli-$size.json"
  [ -f "$wf" ] || { echo "missing $wf"; exit 1; }
  args=("$wf")
  if ! "$bin" check "$wf" >/dev/null 2>&1; then
    # Without the Code node: feed the items the Code node would generate with --input and
    # connect the trigger straight to the IF node.
    python3 - "$wf" "$work/$size.json" "$work/$size-items.json" <<'PY'
import json, re, sys
wf = json.load(open(sys.argv[1]))
code = next(n for n in wf["nodes"] if n["type"] == "n8n-nodes-base.code")
n = int(re.search(r"const N = (\d+)", code["parameters"]["jsCode"]).group(1))
statuses = ["new", "paid", "failed", "refunded"]
json.dump([{"id": i, "amount": (i * 37) % 200, "status": statuses[i % 4]} for i in range(n)],
          open(sys.argv[3], "w"))
trigger = next(n for n in wf["nodes"] if n["type"] == "n8n-nodes-base.manualTrigger")
wf["connections"][trigger["name"]] = wf["connections"].pop(code["name"])
wf["nodes"].remove(code)
json.dump(wf, open(sys.argv[2], "w"))
PY
    args=("$work/$size.json" --input "$work/$size-items.json")
    echo "# $size: Code node not available: items fed with --input (generation not timed)"
  fi
  engine=(); wall=(); rss=(); out_items=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" run "${args[@]}" --profile json \
      >"$work/out.json" 2>"$work/profile.json"
    read -r w r <"$work/time"
    e=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["engineMs"]/1000)' "$work/profile.json")
    engine+=("$e"); wall+=("$w"); rss+=("$r")
    out_items=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/out.json")
  done
  python3 - "$size" "${n8n_engine[$size]}" "${n8n_rss[$size]}" "$out_items" "${engine[*]}" "${wall[*]}" "${rss[*]}" <<'PY'
import sys, statistics as st
size, n8n_e, n8n_r, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
engine = sorted(map(float, sys.argv[5].split())); wall = sorted(map(float, sys.argv[6].split()))
rss = sorted(int(x) / 1024 for x in sys.argv[7].split())
n = {"10k": 10_000, "100k": 100_000}[size]
fmt = lambda xs, f: "min %s / median %s / max %s" % tuple(f(x) for x in (xs[0], st.median(xs), xs[-1]))
print(f"{size}: {out} items reach the end")
print(f"  engine time  {fmt(engine, lambda x: f'{x*1000:.1f} ms')}   n8n {n8n_e:.2f} s -> {n8n_e/st.median(engine):.0f}x faster")
print(f"  process wall {fmt(wall, lambda x: f'{x:.2f} s')}")
print(f"  throughput   {n/st.median(engine):,.0f} items/s through the engine")
print(f"  peak RSS     {fmt(rss, lambda x: f'{x:.1f} MiB')}   n8n {n8n_r:.0f} MiB -> {st.median(rss)/n8n_r*100:.1f}% of n8n")
PY
done
