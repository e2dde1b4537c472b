# Sourced by the bench scripts that load a webhook with wrk (apt-get install -y wrk).
#
#   wrk_post URL CONNECTIONS DURATION BODY  -> prints "req_per_s p99_ms"; non-2xx answers are
#                                              reported on stderr
wrk_post() {
  local script out rps p99
  script=$(mktemp --suffix=.lua)
  printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$4" >"$script"
  out=$(wrk -t2 -c"$2" -d"$3" --latency -s "$script" "$1")
  rm -f "$script"
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' <<<"$out")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "$1 c=$2: $(grep 'Non-2xx\|Socket errors' <<<"$out")" >&2; fi
  echo "$rps $p99"
}
