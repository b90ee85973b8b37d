#!/usr/bin/env bash
# Measures the import/export tools against their floors in one run (issue 20, item 3).
#   swift build -c release --product docket
#   tools/floors/measure-json-tools.sh [.build/release/docket]
# Needs liblmdb-dev (cc ... -llmdb) and python3. Writes into a temporary directory.
set -euo pipefail
DOCKET=${1:-.build/release/docket}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/lmdb_puts" "$HERE/lmdb_puts.c" -llmdb

# 200 000 events of about 400 bytes.
python3 - "$WORK/events.ndjson" <<'PY'
import json, sys, uuid, random
random.seed(7)
with open(sys.argv[1], "w") as f:
    for i in range(200000):
        data = {"body": "Customer reports printer offline on floor %d; restarted spooler, issue persists. Ref ticket %06d." % (i % 40, i),
                "authorID": "staff-%d" % (i % 97), "visibility": "internal" if i % 3 else "public", "commentID": "c-%d" % i,
                "at": "2026-03-%02dT%02d:%02d:00.000Z" % (1 + i % 28, i % 24, i % 60), "tags": ["printer", "floor-%d" % (i % 40)], "n": i}
        line = {"stream": "case-%d" % (i % 5000), "type": "comment-added", "data": data,
                "metadata": {"src": "old-desk", "channel": "email"}, "id": str(uuid.UUID(int=random.getrandbits(128), version=4))}
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
PY
python3 "$HERE/gen_import_history.py" 5000 > "$WORK/history.ndjson"

secs() { python3 -c "import time; print(time.time())"; }
echo "== floor: raw LMDB puts, 200 000 x 400 B, 1 000 per commit"
"$WORK/lmdb_puts" "$WORK/floor" 200000 400 1000 | tee "$WORK/floor.json"
FLOOR=$(python3 -c "import json,sys; print(json.load(open('$WORK/floor.json'))['putsPerSecond'])")
for batch in 1000 5000; do
  echo "== docket log import, --batch-size $batch"
  rm -rf "$WORK/log$batch"
  t0=$(secs); "$DOCKET" log import --data-dir "$WORK/log$batch" --batch-size $batch "$WORK/events.ndjson" > /dev/null; t1=$(secs)
  python3 -c "r=200000/($t1-$t0); print('events/s %.0f, %.2fx the floor (%.0f/s)' % (r, r/$FLOOR, $FLOOR))"
done
echo "== docket log read --all > /dev/null"
t0=$(secs); "$DOCKET" log read --all --data-dir "$WORK/log1000" > /dev/null; t1=$(secs)
python3 -c "print('events/s %.0f' % (200000/($t1-$t0)))"
echo "== docket export > /dev/null"
t0=$(secs); "$DOCKET" export --data-dir "$WORK/log1000" > /dev/null; t1=$(secs)
python3 -c "print('events/s %.0f' % (200000/($t1-$t0)))"
echo "== docket import of $(wc -l < "$WORK/history.ndjson") commands"
/usr/bin/time -f "%U user %S sys %e wall" "$DOCKET" import --data-dir "$WORK/cmds" "$WORK/history.ndjson" 2> "$WORK/time.txt" | tee "$WORK/import.json"
cat "$WORK/time.txt"
python3 - "$WORK/time.txt" "$WORK/import.json" <<'PY'
import json, sys
u, _, s, _, w, _ = open(sys.argv[1]).read().split()[-6:]
j = json.load(open(sys.argv[2]))
cpu = float(u) + float(s)
print("CPU per command %.1f us (%d commands, %d events, %d fired)" % (cpu / j["commands"] * 1e6, j["commands"], j["events"] + j["firedEvents"], j["fired"]))
PY
