#!/usr/bin/env bash
# Starts a single-node Trino on 127.0.0.1 for the Trino tests and the conformance suite.
#
#   bash scripts/trino-start.sh        # then: export TRINO_URL=http://127.0.0.1:8080
#   bash scripts/trino-stop.sh
#
# Downloads, once, from Maven Central through mvn (the only way this machine reaches it):
# io.trino:trino-server-core (tar.gz) + the hive and memory plugin zips, about 445 MiB in all,
# instead of the 780 MiB full trino-server tarball. Unpacked into the cache below, outside the work
# tree. Catalogs: `hive` (file metastore, local file system: the raw-line tables over the very files
# DuckDB reads) and `memory` (the pack's working tables).
#
# Environment (all optional):
#   TRINO_VERSION        default 476 (the newest whose server tarball Maven Central serves)
#   TRINO_PORT           default 8080
#   SESSIONTRAIL_CACHE   default ~/.cache/sessiontrail (install in $SESSIONTRAIL_CACHE/trino)
#   TRINO_JAVA_HOME      a JDK 24+; else JAVA_HOME if it is 24+; else /usr/lib/jvm/temurin-2[4-9]*
#   TRINO_START_TIMEOUT  seconds to wait for readiness, default 180
#   MAVEN_REPO           mvn's local repository, default ~/.m2/repository
set -euo pipefail

VERSION="${TRINO_VERSION:-476}"
PORT="${TRINO_PORT:-8080}"
CACHE="${SESSIONTRAIL_CACHE:-$HOME/.cache/sessiontrail}/trino"
TIMEOUT="${TRINO_START_TIMEOUT:-180}"
HERE="$(cd "$(dirname "$0")" && pwd)"
HOME_DIR="$CACHE/trino-server-core-$VERSION"
RUN_DIR="$CACHE/run-$PORT"
ETC="$RUN_DIR/etc"
URL="http://127.0.0.1:$PORT"

die() { echo "trino-start: $*" >&2; exit 1; }

java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }

find_java() {
  local candidates=()
  [ -n "${TRINO_JAVA_HOME:-}" ] && candidates+=("$TRINO_JAVA_HOME")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/temurin-2[4-9]* /usr/lib/jvm/java-2[4-9]* /usr/lib/jvm/jdk-2[4-9]*; do
    [ -d "$d" ] && candidates+=("$d")
  done
  for d in "${candidates[@]}"; do
    if [ -x "$d/bin/java" ] && [ "$(java_major "$d")" -ge 24 ] 2>/dev/null; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

if curl -fsS "$URL/v1/info" 2>/dev/null | grep -q '"starting":false'; then
  echo "trino-start: a Trino is already running at $URL"
  echo "export TRINO_URL=$URL"
  exit 0
fi

JAVA_DIR="$(find_java)" || die "Trino $VERSION needs a Java 24 or newer JDK; none found (default java is $(java -version 2>&1 | head -1)). Install Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64 or set TRINO_JAVA_HOME."
command -v mvn >/dev/null || die "mvn is needed to download Trino from Maven Central; install Maven"
command -v curl >/dev/null || die "curl is needed to check Trino's readiness"

m2_file() { # group artifact version type
  echo "${MAVEN_REPO:-$HOME/.m2/repository}/${1//.//}/$2/$3/$2-$3.$4"
}

fetch() { # artifact type -> path of the downloaded file
  local file
  file="$(m2_file io.trino "$1" "$VERSION" "$2")"
  if [ ! -f "$file" ]; then
    echo "trino-start: downloading io.trino:$1:$VERSION:$2 from Maven Central (mvn)" >&2
    mvn -q dependency:get -Dartifact="io.trino:$1:$VERSION:$2" -Dtransitive=false >&2 \
      || die "mvn could not download io.trino:$1:$VERSION:$2"
  fi
  echo "$file"
}

if [ ! -f "$HOME_DIR/.complete" ]; then
  mkdir -p "$CACHE"
  rm -rf "$HOME_DIR"
  tar xzf "$(fetch trino-server-core tar.gz)" -C "$CACHE"
  for plugin in hive memory; do
    zip="$(fetch "trino-$plugin" zip)"
    scratch="$(mktemp -d "$CACHE/unzip.XXXXXX")"
    (cd "$scratch" && jar xf "$zip" 2>/dev/null || unzip -q "$zip")
    mv "$scratch/trino-$plugin-$VERSION" "$HOME_DIR/plugin/$plugin"
    rm -rf "$scratch"
  done
  touch "$HOME_DIR/.complete"
fi

# Fresh configuration and state on every start: the memory catalog is empty anyway, and the file
# metastore only holds the raw tables that the tests create for themselves.
rm -rf "$RUN_DIR"
mkdir -p "$ETC/catalog" "$RUN_DIR/data" "$RUN_DIR/metastore"
subst() { sed -e "s|@PORT@|$PORT|g" -e "s|@DATA_DIR@|$RUN_DIR/data|g" -e "s|@METASTORE_DIR@|$RUN_DIR/metastore|g" "$1" >"$2"; }
for f in jvm.config config.properties node.properties log.properties; do subst "$HERE/trino/$f" "$ETC/$f"; done
for f in "$HERE"/trino/catalog/*.properties; do subst "$f" "$ETC/catalog/$(basename "$f")"; done

started=$(date +%s)
JAVA_HOME="$JAVA_DIR" PATH="$JAVA_DIR/bin:$PATH" "$HOME_DIR/bin/launcher" \
  --etc-dir="$ETC" --data-dir="$RUN_DIR/data" start >/dev/null
LOG="$RUN_DIR/data/var/log/server.log"
echo "trino-start: Trino $VERSION starting on $URL with $JAVA_DIR; server log: $LOG"

while :; do
  if curl -fsS "$URL/v1/info" 2>/dev/null | grep -q '"starting":false'; then break; fi
  if [ $(($(date +%s) - started)) -ge "$TIMEOUT" ]; then
    tail -n 40 "$LOG" >&2 2>/dev/null || true
    die "Trino did not become ready within ${TIMEOUT}s; see $LOG"
  fi
  if ! JAVA_HOME="$JAVA_DIR" "$HOME_DIR/bin/launcher" --etc-dir="$ETC" --data-dir="$RUN_DIR/data" status >/dev/null 2>&1; then
    tail -n 40 "$LOG" >&2 2>/dev/null || true
    die "Trino exited while starting; see $LOG"
  fi
  sleep 1
done
echo "trino-start: ready after $(($(date +%s) - started))s"
echo "export TRINO_URL=$URL"
