#!/usr/bin/env bash
# Load test of the HTTP API over loopback (issue 5): builds a release `docket`, serves a
# fresh data directory on a free port with rate limiting off, and drives it with wrk
# (64 connections, 2 threads). Targets: >= 15k accepted commands/s with p99 <= 10 ms,
# and >= 30k queries/s.
# Usage: tools/load.sh [health|queries|commands|comments|all] (default all; comments: add-comment on 512 open
# cases, run only when asked); DURATION (default 15s), PORT
# (default 18080), SCRATCH (a build folder other than .build), BIN (a prebuilt docket to serve
# instead, e.g. another branch's, to compare in the same session). After each run it prints the
# server's CPU time per request (user + system, from /proc/PID/stat); after the commands, the group-commit
# batch size, the projection lag and how long the projections took to catch up (a rate measured while a
# projection had stopped would be meaningless).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
duration="${DURATION:-15s}"
command -v wrk >/dev/null || { echo "load.sh: installing wrk (apt)" >&2; apt-get install -y -qq wrk >/dev/null; }
tools/ensure-deps.sh
scratch=()
if [ -n "${SCRATCH:-}" ]; then scratch=(--scratch-path "$SCRATCH"); fi  # e.g. SCRATCH=.build-release
if [ -n "${BIN:-}" ]; then bin="$BIN"; else
  swift build -c release --product docket "${scratch[@]}" >&2
  bin="$(swift build -c release --show-bin-path "${scratch[@]}")/docket"
fi
dir="$(mktemp -d)"
port="${PORT:-18080}"
# Per-request access logs to stderr would measure the terminal, not the server: warnings only.
DOCKET_LOG_LEVEL="${DOCKET_LOG_LEVEL:-warning}" "$bin" serve --data-dir "$dir" --port "$port" --rate-limit 0 > "$dir/stdout" 2> "$dir/server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
admin="$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["adminToken"])' < "$dir/stdout")"
token() {
  curl -fs -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$port/v1/tokens" -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
}
staff="$(token '{"principal":{"kind":"staff","id":"load-staff","staffRole":"tier1"}}')"
# An organisation in support with the load contact, and one case to query.
manager="$(token '{"principal":{"kind":"staff","id":"load-manager","staffRole":"manager"}}')"
send() {  # type payload: one command on org-load-org as the manager
  curl -fs -o /dev/null -H "Authorization: Bearer $manager" -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/commands" \
    -d "{\"commandId\":\"$(python3 -c 'import uuid; print(uuid.uuid4())')\",\"type\":\"$1\",\"streamId\":\"org-load-org\",\"payload\":$2}"
}
send register-organisation '{"organisationID":"load-org","name":"Load","policyName":"timecare-se"}'
send add-contact '{"contactID":"load-contact","name":"L","email":"l@load.example","access":"designated"}'
send add-contact '{"contactID":"load-contact-2","name":"M","email":"m@load.example","access":"designated"}'
send transition-to-support '{}'
# A contact's token is issued only once the contact is on the organisation's list.
contact="$(token '{"principal":{"kind":"contact","id":"load-contact","organisationId":"load-org","access":"designated"}}')"
curl -fs -o /dev/null -H "Authorization: Bearer $contact" -H 'Content-Type: application/json' "http://127.0.0.1:$port/v1/commands" \
  -d '{"commandId":"00000000-0000-4000-8000-000000000001","type":"open-case","streamId":"case-load-1","payload":{"caseID":"load-1","organisationID":"load-org","contactID":"load-contact","subject":"load","description":"d","topic":"payroll","caseType":"support","subType":"question","severity":"P3","region":"sweden","site":"HQ","product":"TimeCare","stage":"production","callMe":false,"cc":[],"channel":"portal"}}'
ticks="$(getconf CLK_TCK)"
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
measure() {  # wrk ARGS...: runs wrk, then prints the server's CPU time per request
  local before after out
  before="$(cpu)"
  out="$(wrk "$@")"
  after="$(cpu)"
  echo "$out"
  echo "$out" | awk -v t="$((after - before))" -v hz="$ticks" '/requests in/ { n = $1 } END { if (n > 0) printf "server CPU: %.1f us/request (%.2f s over %d requests)\n", t / hz / n * 1e6, t / hz, n }'
}
if [ "$mode" = health ]; then
  echo "== health: GET /health (no auth), 64 connections, $duration"
  DOCKET_PATH=/health measure -t2 -c64 -d"$duration" --latency -s tools/load/query.lua "http://127.0.0.1:$port"
fi
if [ "$mode" = queries ] || [ "$mode" = all ]; then
  echo "== queries: GET /v1/log/head, 64 connections, $duration"
  DOCKET_TOKEN="$staff" measure -t2 -c64 -d"$duration" --latency -s tools/load/query.lua "http://127.0.0.1:$port"
  echo "== queries: GET /v1/cases/load-1 (case projection), 64 connections, $duration"
  DOCKET_TOKEN="$staff" DOCKET_PATH=/v1/cases/load-1 measure -t2 -c64 -d"$duration" --latency -s tools/load/query.lua "http://127.0.0.1:$port"
  echo "== queries: GET /v1/cases/load-1 as the case's contact (rights read from the contact list), 64 connections, $duration"
  DOCKET_TOKEN="$contact" DOCKET_PATH=/v1/cases/load-1 measure -t2 -c64 -d"$duration" --latency -s tools/load/query.lua "http://127.0.0.1:$port"
fi
if [ "$mode" = comments ]; then
  # 512 cases to comment on, opened over one keep-alive connection.
  python3 - "$port" "$contact" <<'PY'
import http.client, json, sys
port, token = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
for i in range(1, 513):
    body = {"commandId": "00000000-0000-4000-9000-%012x" % i, "type": "open-case", "streamId": "case-load-c%d" % i,
            "payload": {"caseID": "load-c%d" % i, "organisationID": "load-org", "contactID": "load-contact", "subject": "load",
                        "description": "d", "topic": "payroll", "caseType": "support", "subType": "question", "severity": "P3",
                        "region": "sweden", "site": "HQ", "product": "TimeCare", "stage": "production", "callMe": False, "cc": [],
                        "channel": "portal"}}
    c.request("POST", "/v1/commands", json.dumps(body), {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200: sys.exit("load.sh: opening case %d answered %d" % (i, r.status))
PY
fi
if [ "$mode" = commands ] || [ "$mode" = all ] || [ "$mode" = comments ]; then
  if [ "$mode" = comments ]; then
    echo "== commands: POST /v1/commands (add-comment on 512 open cases, unique commandIds), 64 connections, $duration"
    DOCKET_TOKEN="$contact" DOCKET_KIND=add-comment measure -t2 -c64 -d"$duration" --latency -s tools/load/commands.lua "http://127.0.0.1:$port"
  else
    echo "== commands: POST /v1/commands (open-case, unique commandIds), 64 connections, $duration"
    DOCKET_TOKEN="$contact" measure -t2 -c64 -d"$duration" --latency -s tools/load/commands.lua "http://127.0.0.1:$port"
  fi
  # A command rate means little if the projections fell behind or stopped meanwhile: report the group-commit batch
  # size, the projection lag at the end, and how long the projections took to catch up (at most 10 s).
  metric() { curl -fs "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { printf "%d", $2 }'; }
  appends="$(metric docket_append_batch_appends_sum)"; batches="$(metric docket_append_batch_appends_count)"
  [ "${batches:-0}" -gt 0 ] && echo "group commit: $appends appends in $batches batches ($((appends / batches)) per batch)"
  lag="$(metric docket_projection_lag_events)"
  echo "projection lag at the end: ${lag:-?} events"
  for tenth in $(seq 1 100); do
    [ "$(metric docket_projection_lag_events)" = 0 ] && { echo "projections caught up $((tenth * 100)) ms later"; break; }
    [ "$tenth" = 100 ] && echo "load.sh: the projections did not catch up within 10 s; see $dir/server.log:" >&2 && tail -3 "$dir/server.log" >&2
    sleep 0.1
  done
fi
