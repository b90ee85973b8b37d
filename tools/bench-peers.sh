#!/usr/bin/env bash
# Docket beside its floors and peers, in one run: each path of Docket is measured
# alternately with what bounds it (A B A B ..., ROUNDS rounds), then one table prints each
# figure's median (min-max over the rounds), the floor's, their ratio and, where it applies,
# Docket's CPU time per operation (user + system, from /usr/bin/time or /proc/PID/stat).
#
# Usage: tools/bench-peers.sh [SECTION...]     (default: all)
#   import   `docket log import` of an NDJSON file of IMPORT_EVENTS events of ~400 B
#            vs raw LMDB puts, 1 000 per synced commit (tools/floors/lmdb-puts.c), and the
#            same puts with Docket's indexes, 5 000 per commit (import's batch size)
#   read     `docket log read --all` and `docket export` of that log (to /dev/null)
#            vs a C cursor scan of its `events` database (tools/floors/lmdb-scan.c)
#   rebuild  `docket rebuild` of a synthetic case history of about EVENTS events (built once
#            by `docket-bench Projections`) vs the in-memory fold of every case event
#            (docket-bench's floor) and the C scan of the same log
#   append   group commit, 64 writers (`docket-stress`, one event per append on 3 200 streams,
#            and `docket-bench EventLog`'s figure) vs a C group-commit writer
#            (tools/floors/group-commit.c) writing the record alone, Docket's three indexes
#            (random UUID keys in `event_ids`), a position-ordered id key, no `event_ids`, and
#            `event_ids` without the stream indexes
#   http     `POST /v1/commands` add-comment and `GET /v1/cases/{id}`, 64 connections
#            (tools/load.sh) vs `GET /health` on the same server
#   pg       PostgreSQL 15, pgbench, 64 clients, one durable single-row INSERT per transaction
#            (fsync on, synchronous_commit on), into a table with a primary key only and into
#            one with a random uuid and a (stream, position) unique key as well; a private
#            cluster on a loopback port (run as the postgres user when root), removed at exit
#   all      every section above
#   -h, --help  this text
#
# Environment: ROUNDS (3); BIN (a prebuilt docket; else `swift build -c release --product
# docket`), SCRATCH (a build folder for that build, e.g. .build-release), STRESS_BIN (a prebuilt
# docket-stress), BENCH_BIN (a prebuilt docket-bench; else built in benchmarks/), DOCKET_BENCH=0
# (no docket-bench for append, which then runs docket-stress alone; rebuild needs it); IMPORT_EVENTS
# (200000), EVENTS (rebuild log size, 500000), APPENDS (per group-commit run, 64000), DURATION
# (each wrk run, 10s), PG_SECONDS (each pgbench run, 10), PG_PORT (55432), PORT (HTTP, 18080),
# KEEP_RESULTS (a file to copy the raw per-round figures to). Needs liblmdb-dev, a C compiler,
# wrk, GNU time, python3 and PostgreSQL 15: tools/ensure-deps.sh --bench installs what is
# missing (apt). Everything it creates lives in one temporary directory, removed at exit with
# the servers it started.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

sections=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    all) sections+=(import read rebuild append http pg) ;;
    import|read|rebuild|append|http|pg) sections+=("$arg") ;;
    *) echo "bench-peers: unknown section '$arg'" >&2; usage >&2; exit 64 ;;
  esac
done
[ "${#sections[@]}" -gt 0 ] || sections=(import read rebuild append http pg)
selected() { local s; for s in "${sections[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

rounds="${ROUNDS:-3}"
import_events="${IMPORT_EVENTS:-200000}"
rebuild_events="${EVENTS:-500000}"
appends="${APPENDS:-64000}"
duration="${DURATION:-10s}"
pg_seconds="${PG_SECONDS:-10}"
pg_port="${PG_PORT:-55432}"

work="$(mktemp -d /tmp/docket-bench-peers.XXXXXX)"
chmod 755 "$work"  # the PostgreSQL cluster's user must reach its directory inside
results="$work/results.tsv"
: > "$results"
pg_dir=""
pg_ctl=""
pg_bin=""
pg_user=""
cleanup() {
  if [ -n "$pg_dir" ] && [ -f "$pg_dir/data/postmaster.pid" ]; then
    as_pg "$pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${KEEP_RESULTS:-}" ] && [ -s "$results" ]; then cp "$results" "$KEEP_RESULTS"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench-peers: $*" >&2; }
# record KEY VALUE [CPU-US-PER-OP]: one figure of one round.
record() { printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >> "$results"; log "  $1 = $2${3:+ (CPU $3 µs/op)}"; }

# timed OUTFILE CMD...: runs CMD with stdout to OUTFILE; sets $wall (s) and $cpu (user + system s).
timed() {
  local out="$1"; shift
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > "$out"
  read -r wall user sys < "$work/time"
  cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
}
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
us_per() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.1f", c / n * 1e6 }'; }

# ---- builds --------------------------------------------------------------------------------

tools/ensure-deps.sh --bench

floors="$work/floors"
mkdir -p "$floors"
for program in lmdb-puts lmdb-scan group-commit; do
  cc -O2 -Wall -o "$floors/$program" "tools/floors/$program.c" -llmdb -lpthread
done

scratch=()
if [ -n "${SCRATCH:-}" ]; then scratch=(--scratch-path "$SCRATCH"); fi
if [ -n "${BIN:-}" ]; then docket="$(realpath "$BIN")"; else
  log "building docket (release)"
  swift build -c release --product docket "${scratch[@]}" >&2
  docket="$(swift build -c release --show-bin-path "${scratch[@]}")/docket"
fi
stress_bin=""
if selected append; then
  if [ -n "${STRESS_BIN:-}" ]; then stress_bin="$(realpath "$STRESS_BIN")"; else
    log "building docket-stress (release)"
    swift build -c release --product docket-stress "${scratch[@]}" >&2
    stress_bin="$(swift build -c release --show-bin-path "${scratch[@]}")/docket-stress"
  fi
fi
bench_bin=""
if selected rebuild || { selected append && [ "${DOCKET_BENCH:-1}" != 0 ]; }; then
  if [ -n "${BENCH_BIN:-}" ]; then bench_bin="$(realpath "$BENCH_BIN")"; else
    log "building docket-bench (release, benchmarks/)"
    (cd benchmarks && swift build -c release --product docket-bench >&2)
    bench_bin="$(cd benchmarks && swift build -c release --show-bin-path)/docket-bench"
  fi
fi

# Temporary files of everything started from here on (docket-bench's logs, tools/load.sh's
# data directory) go under $work, so that nothing outlives the run.
mkdir -m 1777 "$work/tmp"
export TMPDIR="$work/tmp"

# ---- import: `docket log import` vs raw LMDB puts ------------------------------------------

# make_ndjson FILE N: N lines of `docket log import` input, ~400 bytes each, on 20 000 streams.
make_ndjson() {
  python3 - "$1" "$2" <<'PY'
import json, sys, uuid
path, n = sys.argv[1], int(sys.argv[2])
pad = "x" * 230
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"stream": "case-%d" % (i % 20000), "type": "case-commented", "id": str(uuid.uuid4()),
                            "actor": "contact:bench", "metadata": {"channel": "portal"},
                            "data": {"text": pad, "n": i}}, separators=(",", ":")) + "\n")
PY
}

setup_import() {
  make_ndjson "$work/import.ndjson" "$import_events"
  log "import: $import_events events, $(($(stat -c %s "$work/import.ndjson") / import_events)) bytes per line"
}
round_import() {
  rm -rf "$work/import-data"
  timed /dev/null "$docket" log import --data-dir "$work/import-data" "$work/import.ndjson"
  record import.docket "$(per_sec "$import_events" "$wall")" "$(us_per "$cpu" "$import_events")"
  rm -rf "$work/puts" && mkdir "$work/puts"
  timed "$work/out" "$floors/lmdb-puts" "$work/puts" "$import_events" 400 1000 record
  record import.puts "$(cat "$work/out")" "$(us_per "$cpu" "$import_events")"
  rm -rf "$work/puts" && mkdir "$work/puts"
  timed "$work/out" "$floors/lmdb-puts" "$work/puts" "$import_events" 400 5000 indexed
  record import.puts-indexed "$(cat "$work/out")" "$(us_per "$cpu" "$import_events")"
  rm -rf "$work/puts"
}

# ---- read: `docket log read --all` and `docket export` vs a C cursor scan ------------------

setup_read() {
  [ -f "$work/import.ndjson" ] || make_ndjson "$work/import.ndjson" "$import_events"
  rm -rf "$work/read-data"
  "$docket" log import --data-dir "$work/read-data" "$work/import.ndjson" > /dev/null
}
round_read() {
  timed /dev/null "$docket" log read --all --data-dir "$work/read-data"
  record read.docket-read "$(per_sec "$import_events" "$wall")" "$(us_per "$cpu" "$import_events")"
  timed /dev/null "$docket" export --data-dir "$work/read-data"
  record read.docket-export "$(per_sec "$import_events" "$wall")" "$(us_per "$cpu" "$import_events")"
  "$floors/lmdb-scan" "$work/read-data" 3 > "$work/out" 2> /dev/null
  record read.scan "$(cat "$work/out")"
}

# ---- rebuild: `docket rebuild` vs the in-memory fold and the C scan ------------------------

rebuild_log_events=0
setup_rebuild() {
  # SyntheticHistory: 5 000 cases (about 20 events each: some 100 000 per copy), copied under fresh ids.
  local copies=$(((rebuild_events + 99999) / 100000))
  log "rebuild: building a log of about $rebuild_events events ($copies copies of 5 000 cases)"
  mkdir -p "$work/rebuild-data"
  DOCKET_BENCH_PROJ_DIR="$work/rebuild-data" DOCKET_BENCH_PROJ_CASES=5000 DOCKET_BENCH_PROJ_COPIES="$copies" \
    DOCKET_BENCH_PROJ_ONLY=floor "$bench_bin" Projections > "$work/out"
  rebuild_log_events="$(sed -n 's/.*(log: \([0-9]*\) events.*/\1/p' "$work/out")"
  log "rebuild: $rebuild_log_events events"
}
round_rebuild() {
  timed /dev/null "$docket" rebuild --data-dir "$work/rebuild-data"
  record rebuild.docket "$(per_sec "$rebuild_log_events" "$wall")" "$(us_per "$cpu" "$rebuild_log_events")"
  DOCKET_BENCH_PROJ_DIR="$work/rebuild-data" DOCKET_BENCH_PROJ_ONLY=floor "$bench_bin" Projections > "$work/out"
  record rebuild.fold "$(awk '/in-memory fold of every case event/ { for (i = 1; i <= NF; i++) if ($i == "events/s") print $(i - 1) }' "$work/out")"
  "$floors/lmdb-scan" "$work/rebuild-data" 3 > "$work/out" 2> /dev/null
  record rebuild.scan "$(cat "$work/out")"
}

# ---- append: group commit, 64 writers, vs the C group-commit writer ------------------------

setup_append() { :; }
round_append() {
  rm -rf "$work/stress" && mkdir "$work/stress"
  timed "$work/out" "$stress_bin" --data-dir "$work/stress" --writers 64 --streams 3200 --max-group 1 --payload-bytes 200 --appends "$appends"
  record append.stress "$(python3 -c 'import json, sys; print(round(json.load(sys.stdin)["appendsPerSecond"]))' < "$work/out")" "$(us_per "$cpu" "$appends")"
  rm -rf "$work/stress"
  if [ -n "$bench_bin" ]; then
    "$bench_bin" EventLog > "$work/out"
    # The line of its own figure, not the no-sync line's "ratio to append, 64 writers, full sync".
    record append.docket "$(awk '/^ *append, 64 writers, full sync/ { for (i = 1; i <= NF; i++) if ($i == "appends/s") print $(i - 1) }' "$work/out")"
  fi
  local layout
  for layout in record indexed seq-ids no-ids ids-only; do
    rm -rf "$work/gc" && mkdir "$work/gc"
    timed "$work/out" "$floors/group-commit" "$work/gc" 64 "$appends" "$layout" 2> "$work/gc.err"
    cat "$work/gc.err" >&2
    record "append.$layout" "$(head -1 "$work/out")" "$(us_per "$cpu" "$appends")"
  done
  rm -rf "$work/gc"
}

# ---- http: tools/load.sh against the same binary --------------------------------------------

# load MODE: runs tools/load.sh MODE; prints "header<TAB>rate<TAB>cpu-us" per wrk run.
load() {
  BIN="$docket" DURATION="$duration" PORT="${PORT:-18080}" tools/load.sh "$1" 2> "$work/load.err" | awk '
    /^== / { h = $0; sub(/^== /, "", h) }
    /^Requests\/sec:/ { rate = $2 }
    /^server CPU:/ { printf "%s\t%.0f\t%s\n", h, rate, $3 }' || { cat "$work/load.err" >&2; return 1; }
}
setup_http() { :; }
round_http() {
  local line
  line="$(load comments | head -1)"
  record http.comment "$(cut -f2 <<<"$line")" "$(cut -f3 <<<"$line")"
  line="$(load queries | grep -F 'GET /v1/cases/load-1 (case projection)')"
  record http.case "$(cut -f2 <<<"$line")" "$(cut -f3 <<<"$line")"
  line="$(load health | head -1)"
  record http.health "$(cut -f2 <<<"$line")" "$(cut -f3 <<<"$line")"
}

# ---- pg: PostgreSQL 15, durable single-row inserts, pgbench 64 clients ----------------------

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }
pg_cpu() {  # CPU ticks of the postmaster and its children, living and reaped
  local pid; pid="$(head -1 "$pg_dir/data/postmaster.pid")"
  { cat "/proc/$pid/stat"; for c in $(cat "/proc/$pid/task/$pid/children"); do cat "/proc/$c/stat" 2>/dev/null || true; done; } |
    awk '{ s += $14 + $15 + $16 + $17 } END { print s }'
}
setup_pg() {
  local bindir; bindir="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | tail -1)"
  pg_bin="$bindir"
  pg_ctl="$bindir/pg_ctl"
  pg_user="$(id -un)"
  [ "$(id -u)" -ne 0 ] || pg_user=postgres  # initdb refuses root; the Debian package made this user
  pg_dir="$work/pg"
  mkdir -p "$pg_dir" && chown "$pg_user" "$pg_dir"
  as_pg "$bindir/initdb" -D "$pg_dir/data" -U bench -A trust -E UTF8 --no-locale > "$pg_dir/initdb.log"
  as_pg "$pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start -o \
    "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=on -c synchronous_commit=on -c shared_buffers=256MB" > /dev/null
  psql() { "$pg_bin/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U bench -d postgres "$@"; }
  psql <<'SQL'
CREATE TABLE plain (position bigserial PRIMARY KEY, stream text NOT NULL, type text NOT NULL, payload text NOT NULL);
CREATE TABLE indexed (position bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, stream text NOT NULL,
                      type text NOT NULL, payload text NOT NULL, UNIQUE (stream, position));
SQL
  local table
  for table in plain indexed; do
    if [ "$table" = plain ]; then cols="stream, type, payload"; vals="'case-' || :client_id || '-' || (random() * 50)::int, 'case-commented', repeat('x', 200)"
    else cols="id, stream, type, payload"; vals="gen_random_uuid(), 'case-' || :client_id || '-' || (random() * 50)::int, 'case-commented', repeat('x', 200)"; fi
    echo "INSERT INTO $table ($cols) VALUES ($vals);" > "$pg_dir/$table.sql"
  done
}
round_pg() {
  local table before tps
  for table in plain indexed; do
    before="$(pg_cpu)"
    tps="$("$pg_bin/pgbench" -n -h 127.0.0.1 -p "$pg_port" -U bench -c 64 -j 2 -T "$pg_seconds" -f "$pg_dir/$table.sql" postgres 2> "$work/pgbench.err" |
      sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')"
    [ -n "$tps" ] || { cat "$work/pgbench.err" >&2; return 1; }
    local ticks=$(($(pg_cpu) - before))
    record "pg.$table" "$(printf '%.0f' "$tps")" "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$tps" -v s="$pg_seconds" 'BEGIN { printf "%.1f", t / hz / (n * s) * 1e6 }')"
  done
}

# ---- run, alternating within each section, and print the table ------------------------------

for s in "${sections[@]}"; do "setup_$s"; done
for round in $(seq 1 "$rounds"); do
  for s in "${sections[@]}"; do log "round $round/$rounds: $s"; "round_$s"; done
done

python3 - "$results" "$import_events" "$rebuild_log_events" "$rounds" "$(date -u +%Y-%m-%d)" <<'PY'
import statistics, sys
path, n_import, n_rebuild, rounds, day = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
figures, cpus = {}, {}
for line in open(path):
    key, value, cpu = (line.rstrip("\n").split("\t") + [""])[:3]
    if value: figures.setdefault(key, []).append(float(value))
    if cpu: cpus.setdefault(key, []).append(float(cpu))
k = lambda n: "%d k" % round(n / 1000)
rows = [  # path, Docket key, floor (what), floor key, unit
    ("`docket log import`, %s events" % k(n_import), "import.docket", "raw LMDB puts, 1 000 per commit", "import.puts", "events/s"),
    ("`docket log import`, %s events" % k(n_import), "import.docket", "C puts + Docket's 3 indexes, 5 000 per commit", "import.puts-indexed", "events/s"),
    ("`docket log read --all`", "read.docket-read", "C cursor scan of `events`", "read.scan", "events/s"),
    ("`docket export`", "read.docket-export", "C cursor scan of `events`", "read.scan", "events/s"),
    ("`docket rebuild`, %s events" % k(n_rebuild), "rebuild.docket", "in-memory fold of every case event (docket-bench)", "rebuild.fold", "events/s"),
    ("`docket rebuild`, %s events" % k(n_rebuild), "rebuild.docket", "C cursor scan of `events`", "rebuild.scan", "events/s"),
    ("group commit, 64 writers (docket-stress)", "append.stress", "C group commit, record only", "append.record", "appends/s"),
    ("group commit, 64 writers (docket-stress)", "append.stress", "C group commit + 3 indexes (random ids)", "append.indexed", "appends/s"),
    ("group commit, 64 writers (docket-bench)", "append.docket", "C group commit, record only", "append.record", "appends/s"),
    ("group commit, 64 writers (docket-bench)", "append.docket", "C group commit + 3 indexes (random ids)", "append.indexed", "appends/s"),
    # The index layouts against each other: the C writer with Docket's layout over each variant.
    ("C group commit + 3 indexes (random ids)", "append.indexed", "the same, position-ordered ids", "append.seq-ids", "appends/s"),
    ("C group commit + 3 indexes (random ids)", "append.indexed", "the same without `event_ids`", "append.no-ids", "appends/s"),
    ("C group commit + 3 indexes (random ids)", "append.indexed", "`event_ids` alone, no stream indexes", "append.ids-only", "appends/s"),
    ("`POST /v1/commands` add-comment, 64 conn.", "http.comment", "`GET /health`, same server", "http.health", "req/s"),
    ("`POST /v1/commands` add-comment, 64 conn.", "http.comment", "PostgreSQL 15 pgbench insert, 64 clients, PK only", "pg.plain", "req/s"),
    ("`POST /v1/commands` add-comment, 64 conn.", "http.comment", "PostgreSQL 15 pgbench insert, PK + 2 unique indexes", "pg.indexed", "req/s"),
    ("`GET /v1/cases/{id}`, 64 conn.", "http.case", "`GET /health`, same server", "http.health", "req/s"),
]
def fig(key):
    v = figures.get(key)
    if not v: return None, "–"
    m = statistics.median(v)
    spread = " (%s–%s)" % (fmt(min(v)), fmt(max(v))) if len(v) > 1 else ""
    return m, fmt(m) + spread
def fmt(x):
    return "{:,.0f}".format(x).replace(",", " ")
def cpu(key):
    v = cpus.get(key)
    return "%.1f" % statistics.median(v) if v else ""
print("\nMedian (min–max) of %s rounds, %s; CPU: user + system µs per operation, median.\n" % (rounds, day))
print("| path | Docket | CPU µs | floor / peer | floor | CPU µs | Docket ÷ floor |")
print("|---|---|---|---|---|---|---|")
for path, dkey, what, fkey, unit in rows:
    if dkey not in figures or fkey not in figures: continue
    dm, dtext = fig(dkey)
    fm, ftext = fig(fkey)
    ratio = "%.3f" % (dm / fm) if dm and fm else "–"
    print("| %s | %s %s | %s | %s | %s | %s | %s |" % (path, dtext, unit, cpu(dkey), what, ftext, cpu(fkey), ratio))
PY
