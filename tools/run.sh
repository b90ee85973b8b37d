#!/usr/bin/env bash
# Docket's main job: the HTTP API (`docket serve`) on the default data directory
# (./docket-data, or $DOCKET_DATA_DIR), on http://127.0.0.1:8080 (or $DOCKET_PORT).
# Installs liblmdb-dev when missing, builds a release `docket`, then:
#   - with no arguments: serves; on first start (an empty data directory) it records the
#     shipped policies and calendars and prints an administrator token once;
#     Ctrl-C or SIGTERM stops it gracefully;
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
echo "docket: serving $data_dir on http://127.0.0.1:${DOCKET_PORT:-8080} (try: curl localhost:${DOCKET_PORT:-8080}/health)" >&2
exec "$bin" serve --data-dir "$data_dir" --port "${DOCKET_PORT:-8080}"
