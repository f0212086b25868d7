#!/usr/bin/env bash
# veraPDF (org.verapdf.apps:greenfield-apps from Maven Central, the PDF Association's reference
# validator) checks PDFs against PDF/A-3b; any failed rule fails the script. Installs itself on first
# use into ~/.cache/sessiontrail/verapdf (Maven resolves the app and its 18 dependencies); idempotent.
#   usage: scripts/verapdf.sh <file.pdf>...
set -euo pipefail
VERAPDF_VERSION=1.28.2   # 1.28.1's parent POM is not on Maven Central; 1.28.2 resolves
HOME_DIR="${SESSIONTRAIL_CACHE:-$HOME/.cache/sessiontrail}/verapdf-$VERAPDF_VERSION"
die() { echo "verapdf: $*" >&2; exit 1; }
[ "$#" -gt 0 ] || die "usage: scripts/verapdf.sh <file.pdf>..."
command -v java >/dev/null || die "java (17+) is needed; install a JDK"
if [ ! -f "$HOME_DIR/lib/greenfield-apps-$VERAPDF_VERSION.jar" ]; then
  if ! command -v mvn >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "mvn is needed to fetch veraPDF from Maven Central; install maven"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven
  fi
  mkdir -p "$HOME_DIR"
  cat > "$HOME_DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sessiontrail</groupId><artifactId>verapdf-cli</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.verapdf.apps</groupId><artifactId>greenfield-apps</artifactId>
      <version>$VERAPDF_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  (cd "$HOME_DIR" && mvn -q -B -U dependency:copy-dependencies -DoutputDirectory=lib) || die "cannot fetch veraPDF $VERAPDF_VERSION"
fi
status=0
for pdf in "$@"; do
  [ -f "$pdf" ] || die "no such file: $pdf"
  report="$(java -cp "$HOME_DIR/lib/*" org.verapdf.apps.GreenfieldCliWrapper --flavour 3b --format text "$pdf" 2>&1 || true)"
  echo "$report"
  # One line per file, "PASS <file> 3b" or "FAIL <file> 3b"; anything else (a crash) fails too.
  grep -q "^PASS " <<<"$report" && ! grep -q "^FAIL " <<<"$report" || status=1
done
exit "$status"
