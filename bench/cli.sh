#!/usr/bin/env bash
# Engine benchmark on n8n's CLI workflows (../shared/bench/cli-10k.json and cli-100k.json):
# Manual Trigger -> Code (N items) -> IF amount > 100 -> Set flagged -> NoOp.
# Prints engine time (sum of node times), process wall and CPU (user + sys) time, items/s and
# peak RSS, with ratios against n8n 2.8.4 measured on the same machine kind
# (../shared/bench/README.md). On a shared machine CPU time is the steadier comparison.
#
# Usage: bench/cli.sh [runs] [cases...]   (default 3 runs of the cases 10k and 100k; prints
#        min/median/max). Cases: 10k, 100k (the workflows as they are), if-set-1m (cli-100k
#        without its Code node: 1,000,000 items fed with --input straight into IF -> Set).
# SLUICE_BIN=path runs that binary instead of building target/release/sluice;
# SLUICE_BASELINE_BIN=path also runs a baseline binary, alternating with it run by run, and
# prints both with the ratio of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(10k 100k)
shared=${SLUICE_SHARED:-../shared}
if [ -z "${SLUICE_BIN:-}" ]; then
  cargo build --release -q -p sluice-cli
  SLUICE_BIN=${CARGO_TARGET_DIR:-target}/release/sluice
fi
bins=("$SLUICE_BIN")
[ -z "${SLUICE_BASELINE_BIN:-}" ] || bins=("$SLUICE_BASELINE_BIN" "$SLUICE_BIN")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# n8n's figures (engine seconds, peak RSS MiB) from ../shared/bench/README.md.
declare -A n8n_engine=([10k]=1.57 [100k]=6.52)
declare -A n8n_rss=([10k]=376 [100k]=816)

# Writes $work/$1.json (the workflow without its Code node, trigger wired to the IF node) and
# $work/$1-items.json ($2 items as the Code node would generate them).
without_code_node() {
  python3 - "$shared/bench/cli-100k.json" "$work/$1.json" "$work/$1-items.json" "$2" <<'PY'
import json, sys
wf = json.load(open(sys.argv[1]))
n = int(sys.argv[4])
code = next(n for n in wf["nodes"] if n["type"] == "n8n-nodes-base.code")
statuses = ["new", "paid", "failed", "refunded"]
json.dump([{"id": i, "amount": (i * 37) % 200, "status": statuses[i % 4]} for i in range(n)],
          open(sys.argv[3], "w"))
trigger = next(n for n in wf["nodes"] if n["type"] == "n8n-nodes-base.manualTrigger")
wf["connections"][trigger["name"]] = wf["connections"].pop(code["name"])
wf["nodes"].remove(code)
json.dump(wf, open(sys.argv[2], "w"))
PY
}

for case in "${cases[@]}"; do
  case $case in
    10k | 100k)
      items=${case%k}000
      wf="$shared/bench/cli-$case.json"
      [ -f "$wf" ] || { echo "missing $wf"; exit 1; }
      args=("$wf")
      if ! "$SLUICE_BIN" check "$wf" >/dev/null 2>&1; then
        without_code_node "$case" "$items"
        args=("$work/$case.json" --input "$work/$case-items.json")
        echo "# $case: Code node not available: items fed with --input (generation not timed)"
      fi
      ;;
    if-set-1m)
      items=1000000
      without_code_node "$case" "$items"
      args=("$work/$case.json" --input "$work/$case-items.json")
      ;;
    *) echo "unknown case $case"; exit 1 ;;
  esac
  declare -A engine=() wall=() cpu=() rss=()
  for _ in $(seq "$runs"); do
    for bin in "${bins[@]}"; do
      # `sluice run` prints the first SLUICE_RUN_DATA_MAX_ITEMS items; count them all.
      SLUICE_RUN_DATA_MAX_ITEMS=all /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" run "${args[@]}" --profile json \
        >"$work/out.json" 2>"$work/profile.json"
      read -r w u s r <"$work/time"
      e=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["engineMs"]/1000)' "$work/profile.json")
      engine[$bin]+="$e "; wall[$bin]+="$w "; cpu[$bin]+="$(python3 -c "print($u + $s)") "; rss[$bin]+="$r "
      out_items=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/out.json")
    done
  done
  for bin in "${bins[@]}"; do
    label=$([ "$bin" = "${SLUICE_BASELINE_BIN:-}" ] && echo baseline || echo sluice)
    python3 - "$case" "$label $bin" "${n8n_engine[$case]:-0}" "${n8n_rss[$case]:-0}" "$out_items" "$items" \
      "${engine[$bin]}" "${wall[$bin]}" "${rss[$bin]}" "${cpu[$bin]}" <<'PY'
import sys, statistics as st
case, label, n8n_e, n8n_r, out, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
engine = sorted(map(float, sys.argv[7].split())); wall = sorted(map(float, sys.argv[8].split()))
rss = sorted(int(x) / 1024 for x in sys.argv[9].split()); cpu = sorted(map(float, sys.argv[10].split()))
fmt = lambda xs, f: "min %s / median %s / max %s" % tuple(f(x) for x in (xs[0], st.median(xs), xs[-1]))
n8n_engine = f"   n8n {n8n_e:.2f} s -> {n8n_e/st.median(engine):.0f}x faster" if n8n_e else ""
n8n_rss = f"   n8n {n8n_r:.0f} MiB -> {st.median(rss)/n8n_r*100:.1f}% of n8n" if n8n_r else ""
print(f"{case} [{label}]: {out} items reach the end")
print(f"  engine time  {fmt(engine, lambda x: f'{x*1000:.1f} ms')}{n8n_engine}")
print(f"  process wall {fmt(wall, lambda x: f'{x:.2f} s')}")
print(f"  process CPU  {fmt(cpu, lambda x: f'{x:.2f} s')}")
print(f"  throughput   {n/st.median(engine):,.0f} items/s through the engine")
print(f"  peak RSS     {fmt(rss, lambda x: f'{x:.1f} MiB')}{n8n_rss}")
PY
  done
  if [ ${#bins[@]} -eq 2 ]; then
    python3 - "${engine[${bins[0]}]}" "${engine[${bins[1]}]}" "${cpu[${bins[0]}]}" "${cpu[${bins[1]}]}" <<'PY'
import sys, statistics as st
base, new, base_cpu, new_cpu = (st.median(map(float, a.split())) for a in sys.argv[1:5])
print(f"  engine time median: baseline {base*1000:.1f} ms -> {new*1000:.1f} ms ({base/new:.2f}x)")
print(f"  process CPU median: baseline {base_cpu:.2f} s -> {new_cpu:.2f} s ({base_cpu/new_cpu:.2f}x)")
PY
  fi
  unset engine wall cpu rss
done
