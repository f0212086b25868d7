#!/usr/bin/env bash
# Stops the Trino that scripts/trino-start.sh started on the same TRINO_PORT (by its pid file).
set -euo pipefail

VERSION="${TRINO_VERSION:-476}"
PORT="${TRINO_PORT:-8080}"
CACHE="${SESSIONTRAIL_CACHE:-$HOME/.cache/sessiontrail}/trino"
HOME_DIR="$CACHE/trino-server-core-$VERSION"
RUN_DIR="$CACHE/run-$PORT"

if [ ! -x "$HOME_DIR/bin/launcher" ] || [ ! -d "$RUN_DIR/etc" ]; then
  echo "trino-stop: no Trino was started on port $PORT from $CACHE"
  exit 0
fi
# The launcher stops the process named in its pid file only, and waits for it to exit.
"$HOME_DIR/bin/launcher" --etc-dir="$RUN_DIR/etc" --data-dir="$RUN_DIR/data" stop
