#!/usr/bin/env bash
# moto's standalone server: a real S3-compatible HTTP server on 127.0.0.1 for the S3 evidence store's
# tests (test/helpers/moto-server.ts starts it). Pinned: the tests record what this version enforces.
# Idempotent and quiet: does nothing when the pinned version and its server extras are installed.
set -euo pipefail
MOTO_VERSION=5.2.1
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null; then
  echo "install-moto: $PYTHON not found; install Python 3.9+ and pip" >&2
  exit 1
fi
if "$PYTHON" - "$MOTO_VERSION" <<'PY' 2>/dev/null; then exit 0; fi
import sys
from importlib.metadata import version
import flask, flask_cors  # noqa: F401  (the [server] extras)
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-input "moto[server]==${MOTO_VERSION}"
