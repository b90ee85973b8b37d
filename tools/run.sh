#!/usr/bin/env bash
# Docket's main job, on the default data directory (./docket-data, or $DOCKET_DATA_DIR).
# Installs liblmdb-dev when missing, builds a release `docket`, then:
#   - with no arguments: creates a demo log from tools/demo/events.ndjson on first run
#     (an empty data directory), and prints the log's head and its verification;
#   - with arguments: runs `docket ARGS...` (e.g. tools/run.sh log read --all).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/ensure-deps.sh
swift build -c release --product docket >&2
bin="$(swift build -c release --show-bin-path)/docket"
if [ "$#" -gt 0 ]; then
  exec "$bin" "$@"
fi
data_dir="${DOCKET_DATA_DIR:-./docket-data}"
if [ ! -f "$data_dir/data.mdb" ]; then
  echo "docket: no log in $data_dir yet; importing the demo history (tools/demo/events.ndjson)" >&2
  "$bin" log import --data-dir "$data_dir" tools/demo/events.ndjson
fi
echo "head of the log in $data_dir:"
"$bin" log head --data-dir "$data_dir"
"$bin" log verify --data-dir "$data_dir"
echo "next: $0 log read --all    (every event as NDJSON)    |    $0 --help"
