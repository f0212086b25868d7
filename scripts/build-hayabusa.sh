#!/usr/bin/env bash
# Builds Hayabusa (Yamato-Security/hayabusa, Rust) from its repository for the bench's peer case
# (bench/hayabusa.ts): `cargo build --release` at a pinned tag, run under `nice` (a release build of
# its ~300 crates takes tens of minutes on 2 cores). Usage: scripts/build-hayabusa.sh <out-dir>
# Leaves <out-dir>/bin/hayabusa, or <out-dir>/BUILD-FAILED.txt with the reason (the bench then
# skips the case and prints that reason). HAYABUSA_SRC: an existing checkout instead of a clone.
set -euo pipefail
OUT="${1:?usage: build-hayabusa.sh <out-dir>}"
TAG="${HAYABUSA_TAG:-v4.0.0}"
mkdir -p "$OUT/bin"
rm -f "$OUT/BUILD-FAILED.txt"
fail() { echo "$1" | tee "$OUT/BUILD-FAILED.txt" >&2; exit 1; }
command -v cargo >/dev/null || fail "cargo not found: install Rust (rustup) or set HAYABUSA to a built binary"
SRC="${HAYABUSA_SRC:-$OUT/src}"
if [ ! -f "$SRC/Cargo.toml" ]; then
  git clone --quiet --depth 1 --branch "$TAG" --recurse-submodules https://github.com/Yamato-Security/hayabusa "$SRC" \
    || fail "cannot clone github.com/Yamato-Security/hayabusa@$TAG (network?); set HAYABUSA_SRC to a checkout or HAYABUSA to a binary"
fi
# Hayabusa states the toolchain it needs (rust-version); a mismatch is said, not worked around.
NEED=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$SRC/Cargo.toml")
HAVE=$(rustc --version | awk '{print $2}')
if [ -n "$NEED" ] && [ "$(printf '%s\n%s\n' "$NEED" "$HAVE" | sort -V | head -1)" != "$NEED" ]; then
  fail "Hayabusa $TAG needs Rust $NEED, this machine has $HAVE: rustup toolchain install $NEED, then rerun"
fi
( cd "$SRC" && nice -n 19 cargo build --release --locked ) || fail "cargo build failed in $SRC (see its output)"
cp "$SRC/target/release/hayabusa" "$OUT/bin/hayabusa"
# Hayabusa reads its config and rules folders next to the binary.
cp -r "$SRC/config" "$OUT/bin/" 2>/dev/null || true
[ -d "$SRC/rules" ] && cp -r "$SRC/rules" "$OUT/bin/" || true
echo "built $OUT/bin/hayabusa ($TAG)"
