#!/usr/bin/env bash
# Installs what Docket needs and a fresh Debian 12 machine with only the Swift toolchain
# lacks: liblmdb-dev (and pkg-config to find it). With --python, also the `lmdb` Python
# package used by the independent verifier (tools/verify_log.py) in the test suite, and
# schemathesis, which checks the live HTTP server against schemas/openapi.yaml. With --bench,
# what tools/bench-peers.sh needs: a C compiler, wrk, GNU time, python3 and PostgreSQL 15 (its
# server binaries and pgbench; the script starts a private cluster of its own).
# Safe to run again: it installs only what is missing.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists lmdb; }; then
  echo "docket: installing liblmdb-dev and pkg-config (apt)" >&2
  apt_install liblmdb-dev pkg-config
fi

if [ "${1:-}" = "--python" ] && ! python3 -c 'import lmdb' >/dev/null 2>&1; then
  echo "docket: installing the lmdb Python package for tools/verify_log.py" >&2
  python3 -m pip install --quiet lmdb 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages lmdb 2>/dev/null \
    || apt_install python3-lmdb
  python3 -c 'import lmdb' || { echo "docket: could not install the lmdb Python package" >&2; exit 1; }
fi

if [ "${1:-}" = "--python" ] && ! command -v schemathesis >/dev/null 2>&1; then
  echo "docket: installing schemathesis (checks the live server against schemas/openapi.yaml)" >&2
  python3 -m pip install --quiet schemathesis 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages schemathesis 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages schemathesis
  command -v schemathesis >/dev/null || { echo "docket: could not install schemathesis" >&2; exit 1; }
fi

if [ "${1:-}" = "--bench" ]; then
  missing=()
  command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ -x /usr/bin/time ] || missing+=(time)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || missing+=(postgresql)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "docket: installing ${missing[*]} for the benchmarks (apt)" >&2
    apt_install "${missing[@]}"
  fi
fi
