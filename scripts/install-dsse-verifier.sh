#!/usr/bin/env bash
# securesystemslib (the Python library in-toto and TUF sign with) for the independent DSSE check of
# manifest.dsse.json (scripts/dsse-verify.py, test/signing/dsse-independent.test.ts). Pinned: the
# test records what this version accepts. Idempotent and quiet.
set -euo pipefail
SSLIB_VERSION=1.3.0
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null; then
  echo "install-dsse-verifier: $PYTHON not found; install Python 3.9+ and pip" >&2
  exit 1
fi
if "$PYTHON" - "$SSLIB_VERSION" <<'PY' 2>/dev/null; then exit 0; fi
import sys
from importlib.metadata import version
import cryptography  # noqa: F401  (for ECDSA keys)
sys.exit(0 if version("securesystemslib") == sys.argv[1] else 1)
PY
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-input "securesystemslib[crypto]==${SSLIB_VERSION}"
