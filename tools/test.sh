#!/usr/bin/env bash
# Runs Docket's whole test suite, installing what is missing first (liblmdb-dev, the lmdb
# Python package for the independent verifier). Usage: tools/test.sh [swift test options]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/ensure-deps.sh --python
export DOCKET_REQUIRE_SCHEMATHESIS=1  # the OpenAPI conformance test must run, not skip
swift build --build-tests
swift test --skip-build "$@"
