#!/usr/bin/env bash
# Mixed load on a large existing data directory (issue 4's runner under `docket serve`): commands arriving
# at a steady rate while wrk reads case-list pages, so the projections fold live between queries. Reports
# the server's resident memory once idle after start-up (projections caught up, deadline scheduler's
# start-up pass done) and again at the end of the load, wrk's latency distribution, and how many commands
# were accepted.
#
# Usage: tools/mixed-load.sh DATA_DIR
#   DATA_DIR   a data directory with cases in it, e.g. a copy of the benchmarks' 5 M-event log. The run
#              APPENDS to it (comments, whatever the deadline scheduler fires, a staff token): serve a copy.
# Environment: BIN (a prebuilt docket; default: build a release one, SCRATCH as in tools/load.sh),
#   PORT (default 18090), DURATION (wrk's, default 20s), RATE (add-comment commands per second, default 200),
#   ORGS and STATUSES (comma-separated: the organisations whose pages are listed, by each status and by last
#   update; default: the first 10 organisations, in name order, of the 1 000 oldest cases, and new, investigating,
#   awaiting-customer and closed, so that runs on the same directory list the same pages).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: tools/mixed-load.sh DATA_DIR   (an existing data directory; the run appends to it)" >&2
  exit 64
fi
data="$(cd "$1" && pwd)"
duration="${DURATION:-20s}"; rate="${RATE:-200}"; port="${PORT:-18090}"
command -v wrk >/dev/null || { echo "mixed-load.sh: installing wrk (apt)" >&2; apt-get install -y -qq wrk >/dev/null; }
tools/ensure-deps.sh
scratch=()
if [ -n "${SCRATCH:-}" ]; then scratch=(--scratch-path "$SCRATCH"); fi
if [ -n "${BIN:-}" ]; then bin="$BIN"; else
  swift build -c release --product docket "${scratch[@]}" >&2
  bin="$(swift build -c release --show-bin-path "${scratch[@]}")/docket"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A staff token for the load, minted in the data directory before the server starts.
staff="$("$bin" token create --kind staff --id mixed-load --staff-role manager --label "tools/mixed-load.sh" --data-dir "$data" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
DOCKET_LOG_LEVEL="${DOCKET_LOG_LEVEL:-warning}" "$bin" serve --data-dir "$data" --port "$port" --rate-limit 0 > "$work/stdout" 2> "$work/server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
up=""
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
[ -n "$up" ] || { echo "mixed-load.sh: the server did not answer /health within 60 s; its log:" >&2; tail -20 "$work/server.log" >&2; exit 1; }
# Caught up, then idle: the projections' lag is 0 and the process used < 0.1 s of CPU in the last second.
start=$(date +%s)
for _ in $(seq 1 3000); do
  lag="$(curl -fs "http://127.0.0.1:$port/metrics" | awk '$1=="docket_projection_lag_events"{s+=$2} END{print s+0}')"
  [ "$lag" = 0 ] && break
  sleep 0.2
done
ticks="$(getconf CLK_TCK)"
prev=0
for _ in $(seq 1 600); do
  t="$(awk '{print $14+$15}' "/proc/$pid/stat")"
  [ "$prev" -gt 0 ] && [ $((t - prev)) -lt $((ticks / 10)) ] && break
  prev=$t; sleep 1
done
memory() { awk '/^(VmRSS|RssAnon|RssFile):/{printf "%s %d MB  ", $1, $2 / 1024}' "/proc/$pid/status"; }
echo "idle after $(( $(date +%s) - start )) s, $(awk -v hz="$ticks" '{printf "%.1f s of CPU (%.1f user, %.1f system), %d minor page faults", ($14+$15)/hz, $14/hz, $15/hz, $10}' "/proc/$pid/stat"): $(memory)"

# Open cases to comment on (the most recently updated), and the pages to list.
curl -fs -H "Authorization: Bearer $staff" "http://127.0.0.1:$port/v1/cases?sort=updated&limit=1000" > "$work/recent.json"
curl -fs -H "Authorization: Bearer $staff" "http://127.0.0.1:$port/v1/cases?sort=created&order=asc&limit=1000" > "$work/oldest.json"
ORGS="${ORGS:-}" STATUSES="${STATUSES:-}" python3 - "$work" <<'PY'
import json, os, sys, urllib.parse
work = sys.argv[1]
recent = json.load(open(work + "/recent.json"))["cases"]
oldest = json.load(open(work + "/oldest.json"))["cases"]
open_cases = [r["caseID"] for r in recent if r.get("status") not in ("closed", None)][:200]
if not open_cases:
    sys.exit("mixed-load.sh: the data directory has no open cases to comment on")
open(work + "/cases.txt", "w").write(",".join(open_cases))
orgs = [o for o in os.environ["ORGS"].split(",") if o] or sorted({r["organisationID"] for r in oldest})[:10]
statuses = [s for s in os.environ["STATUSES"].split(",") if s] or ["new", "investigating", "awaiting-customer", "closed"]
with open(work + "/paths.txt", "w") as f:
    for o in orgs:
        q = urllib.parse.quote(o)
        for s in statuses:
            f.write(f"/v1/cases?organisation={q}&status={urllib.parse.quote(s)}&limit=50\n")
        f.write(f"/v1/cases?organisation={q}&sort=updated&limit=50\n")
print(f"{len(open_cases)} open cases to comment on; pages of {len(orgs)} organisations ({','.join(orgs)}) by status ({','.join(statuses)}) and by last update")
PY

seconds="$(( ${duration%s} + 2 ))"
python3 - "$port" "$staff" "$rate" "$seconds" "$(cat "$work/cases.txt")" > "$work/commands.txt" <<'PY' &
# add-comment, one at a time over a keep-alive connection, at about RATE/s.
import http.client, json, sys, time, uuid
port, token, rate, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
cases = sys.argv[5].split(",")
c = http.client.HTTPConnection("127.0.0.1", port)
end = time.time() + seconds
n = ok = 0
statuses = {}
while time.time() < end:
    body = {"commandId": str(uuid.uuid4()), "type": "add-comment", "streamId": "case-" + cases[n % len(cases)],
            "payload": {"commentID": str(uuid.uuid4()), "body": "mixed load", "visibility": "public"}}
    c.request("POST", "/v1/commands", json.dumps(body), {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    n += 1
    if r.status == 200: ok += 1
    else: statuses[r.status] = statuses.get(r.status, 0) + 1
    time.sleep(max(0, 1 / rate - 0.001))
print(f"commands: {n} sent, {ok} accepted" + (f", refused by status {statuses}" if statuses else ""))
PY
sender=$!
sleep 1
DOCKET_TOKEN="$staff" DOCKET_PATHS_FILE="$work/paths.txt" wrk -t2 -c4 -d"$duration" --latency -s tools/load/paths.lua "http://127.0.0.1:$port"
echo "under load, at the end: $(memory)"
wait "$sender"
cat "$work/commands.txt"
