#!/usr/bin/env bash
# Builds Hayabusa (Yamato-Security/hayabusa, Rust) from its repository for the bench's peer case
# (bench/hayabusa.ts): `cargo build --release` at a pinned tag, run under `nice -n 19` (a release
# build of its ~300 crates, with the fat LTO its release profile asks for, takes tens of minutes on
# 2 cores). A bench tool, never called by CI or `npm test`.
#
# Usage: scripts/build-hayabusa.sh <out-dir>
# Leaves <out-dir>/bin/hayabusa with its config/ folder and <out-dir>/bin/BUILD-INFO.txt (exactly
# which revisions and toolchain were built), or <out-dir>/BUILD-FAILED.txt with the reason (the
# bench then skips the case and prints that reason).
#
# Where the sources come from, first match wins:
#   HAYABUSA_SRC          an existing checkout of Hayabusa (used as is, its own Cargo.toml).
#   github.com            `git clone --branch $HAYABUSA_TAG` (default v4.0.0); cargo fetches the git
#                         dependency hayabusa-evtx at the rev Hayabusa's Cargo.toml pins.
#   HAYABUSA_MIRROR       when github.com cannot be reached: a local git directory (bare or not) of
#                         Yamato-Security/hayabusa holding $HAYABUSA_TAG; its tree is exported with
#                         `git archive`. On this bench machine: /work/.mirror/Yamato-Security+hayabusa/repo
#   HAYABUSA_EVTX_MIRROR  with HAYABUSA_MIRROR: a local git directory of Yamato-Security/hayabusa-evtx.
#                         The rev Hayabusa pins is used when the mirror has it; otherwise the mirror's
#                         HEAD (or HAYABUSA_EVTX_REV), said in BUILD-INFO.txt and on stderr, never
#                         silently. The build copy's Cargo.toml is pointed at it (path dependency).
#                         On this machine: /work/.mirror/Yamato-Security+hayabusa-evtx/repo
#   HAYABUSA_RULES_MIRROR with HAYABUSA_MIRROR: a local git directory of Yamato-Security/hayabusa-rules,
#                         exported as the rules/ submodule (the commit Hayabusa pins when the mirror
#                         has it, else HEAD, said). On this machine: /work/.mirror/Yamato-Security+hayabusa-rules/repo
#   A mirror export is recorded in <out-dir>/snapshot.txt and reused by a rerun from the same commits.
# The toolchain: Hayabusa states the Rust it needs (rust-version); when the default rustc is older
# and rustup is present, that toolchain is installed (`rustup toolchain install <v> --profile
# minimal`, from static.rust-lang.org) and used as `cargo +<v>`. Other crates come from crates.io,
# at the versions of Hayabusa's Cargo.lock.
set -euo pipefail
OUT="${1:?usage: build-hayabusa.sh <out-dir>}"
TAG="${HAYABUSA_TAG:-v4.0.0}"
EVTX_GIT="https://github.com/Yamato-Security/hayabusa-evtx.git"
mkdir -p "$OUT/bin"
rm -f "$OUT/BUILD-FAILED.txt"
fail() { echo "$1" | tee "$OUT/BUILD-FAILED.txt" >&2; exit 1; }
command -v cargo >/dev/null || fail "cargo not found: install Rust (rustup) or set HAYABUSA to a built binary"

ORIGIN=""
PATCHED=""
if [ -n "${HAYABUSA_SRC:-}" ]; then
  SRC="$HAYABUSA_SRC"
  [ -f "$SRC/Cargo.toml" ] || fail "HAYABUSA_SRC=$SRC has no Cargo.toml"
  ORIGIN="checkout $SRC ($(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo 'not a git checkout'))"
else
  SRC="$OUT/src"
  EVTX_SRC="$OUT/evtx-src"
  if git ls-remote --exit-code --tags https://github.com/Yamato-Security/hayabusa "$TAG" >/dev/null 2>&1; then
    rm -rf "$SRC" "$OUT/snapshot.txt"
    git clone --quiet --depth 1 --branch "$TAG" --recurse-submodules https://github.com/Yamato-Security/hayabusa "$SRC" \
      || fail "cannot clone github.com/Yamato-Security/hayabusa@$TAG"
    ORIGIN="github.com/Yamato-Security/hayabusa $TAG ($(git -C "$SRC" rev-parse HEAD), rules submodule $(git -C "$SRC/rules" rev-parse HEAD 2>/dev/null || echo none))"
  elif [ -n "${HAYABUSA_MIRROR:-}" ]; then
    COMMIT=$(git -C "$HAYABUSA_MIRROR" rev-parse --verify --quiet "$TAG^{commit}") \
      || fail "github.com unreachable and HAYABUSA_MIRROR=$HAYABUSA_MIRROR has no $TAG"
    # Hayabusa's Cargo.toml pins hayabusa-evtx by git rev; cargo cannot fetch it from github here.
    PINNED=$(git -C "$HAYABUSA_MIRROR" show "$COMMIT:Cargo.toml" | sed -n 's/^evtx *=.*rev *= *"\([0-9a-f]*\)".*/\1/p')
    [ -n "${HAYABUSA_EVTX_MIRROR:-}" ] \
      || fail "github.com unreachable: set HAYABUSA_EVTX_MIRROR to a git directory of hayabusa-evtx (Hayabusa pins rev $PINNED)"
    if EVTX_COMMIT=$(git -C "$HAYABUSA_EVTX_MIRROR" rev-parse --verify --quiet "${PINNED}^{commit}"); then
      EVTX_NOTE="the rev Hayabusa pins"
    else
      EVTX_COMMIT=$(git -C "$HAYABUSA_EVTX_MIRROR" rev-parse --verify "${HAYABUSA_EVTX_REV:-HEAD}^{commit}")
      EVTX_NOTE="NOT the rev Hayabusa pins ($PINNED), which the mirror lacks"
      echo "warning: hayabusa-evtx $EVTX_COMMIT is $EVTX_NOTE" >&2
    fi
    # The rules submodule (Yamato-Security/hayabusa-rules) holds rules/config/, which every command,
    # logon-summary included, reads (eventkey_alias.txt, channel_eid_info.txt, …); its rules are
    # not used by logon-summary.
    RULES_PINNED=$(git -C "$HAYABUSA_MIRROR" ls-tree "$COMMIT" rules | awk '$2 == "commit" {print $3}')
    RULES_COMMIT=none
    if [ -n "${HAYABUSA_RULES_MIRROR:-}" ]; then
      if RULES_COMMIT=$(git -C "$HAYABUSA_RULES_MIRROR" rev-parse --verify --quiet "${RULES_PINNED}^{commit}"); then
        RULES_NOTE="the submodule commit Hayabusa pins"
      else
        RULES_COMMIT=$(git -C "$HAYABUSA_RULES_MIRROR" rev-parse --verify HEAD^{commit})
        RULES_NOTE="NOT the submodule commit Hayabusa pins ($RULES_PINNED), which the mirror lacks"
        echo "warning: hayabusa-rules $RULES_COMMIT is $RULES_NOTE" >&2
      fi
    else
      RULES_NOTE="not exported: set HAYABUSA_RULES_MIRROR (Hayabusa refuses to run without rules/config)"
      echo "warning: no HAYABUSA_RULES_MIRROR: $RULES_NOTE" >&2
    fi
    # An export already made from the same commits is kept (with its target/), so that a rerun
    # does not rebuild; anything else is exported afresh.
    WANT="hayabusa $COMMIT; evtx $EVTX_COMMIT; rules $RULES_COMMIT"
    if [ "$(cat "$OUT/snapshot.txt" 2>/dev/null)" != "$WANT" ] || [ ! -f "$SRC/Cargo.toml" ]; then
      rm -rf "$SRC" "$EVTX_SRC" "$OUT/snapshot.txt"
      mkdir -p "$SRC" "$EVTX_SRC"
      git -C "$HAYABUSA_MIRROR" archive "$COMMIT" | tar -x -C "$SRC" || fail "cannot export $COMMIT from $HAYABUSA_MIRROR"
      # samples/ holds the crate's test .evtx files (read only by its #[cfg(test)] code and
      # excluded from its package); a snapshot may lack those large blobs, so they are not exported.
      # (git archive still names the missing blob on stderr, hence the check of what was exported.)
      git -C "$HAYABUSA_EVTX_MIRROR" archive "$EVTX_COMMIT" -- ':(exclude)samples' 2>/dev/null | tar -x -C "$EVTX_SRC"
      [ -f "$EVTX_SRC/Cargo.toml" ] && [ -f "$EVTX_SRC/src/lib.rs" ] \
        || fail "cannot export $EVTX_COMMIT from $HAYABUSA_EVTX_MIRROR"
      if [ "$RULES_COMMIT" != none ]; then
        rm -rf "$SRC/rules" && mkdir -p "$SRC/rules"
        git -C "$HAYABUSA_RULES_MIRROR" archive "$RULES_COMMIT" | tar -x -C "$SRC/rules" \
          || fail "cannot export $RULES_COMMIT from $HAYABUSA_RULES_MIRROR"
      fi
      # A cargo [patch] of a git source still makes cargo fetch that source (here: github), so the
      # build copy's dependency line itself is pointed at the local copy, same features.
      grep -q "^evtx *= *{ *git *= *\"$EVTX_GIT\"" "$SRC/Cargo.toml" \
        || fail "Hayabusa $TAG's Cargo.toml no longer declares evtx as the git dependency $EVTX_GIT"
      FEATURES=$(sed -n 's/^evtx *=.*\(features *= *\[[^]]*\]\).*/\1/p' "$SRC/Cargo.toml")
      sed -i "s|^evtx *=.*|evtx = { path = \"$EVTX_SRC\", ${FEATURES:+$FEATURES }} # build copy: was git rev $PINNED|" "$SRC/Cargo.toml"
      echo "$WANT" >"$OUT/snapshot.txt"
    fi
    EVTX_VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$EVTX_SRC/Cargo.toml" | head -1)
    ORIGIN="mirror $HAYABUSA_MIRROR, $TAG = $COMMIT (github.com unreachable)"
    ORIGIN="$ORIGIN; hayabusa-evtx from mirror $HAYABUSA_EVTX_MIRROR at $EVTX_COMMIT (version $EVTX_VERSION, $EVTX_NOTE)"
    ORIGIN="$ORIGIN; rules/ (hayabusa-rules) at $RULES_COMMIT ($RULES_NOTE)"
    PATCHED="Cargo.toml's evtx dependency rewritten to path $EVTX_SRC"
  else
    fail "cannot reach github.com/Yamato-Security/hayabusa@$TAG (network?); set HAYABUSA_MIRROR to a local git copy of it (and HAYABUSA_EVTX_MIRROR, HAYABUSA_RULES_MIRROR), HAYABUSA_SRC to a checkout, or HAYABUSA to a binary"
  fi
fi

# Hayabusa states the toolchain it needs (rust-version); an older default is replaced through
# rustup by exactly that version, never by building with a toolchain it does not declare.
NEED=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$SRC/Cargo.toml")
HAVE=$(rustc --version | awk '{print $2}')
CARGO=(cargo)
if [ -n "$NEED" ] && [ "$(printf '%s\n%s\n' "$NEED" "$HAVE" | sort -V | head -1)" != "$NEED" ]; then
  command -v rustup >/dev/null || fail "Hayabusa $TAG needs Rust $NEED, this machine has $HAVE and no rustup"
  rustup toolchain list | grep -q "^$NEED-" || rustup toolchain install "$NEED" --profile minimal \
    || fail "Hayabusa $TAG needs Rust $NEED: rustup toolchain install $NEED failed (network?)"
  CARGO=(cargo "+$NEED")
  HAVE=$(rustc "+$NEED" --version | awk '{print $2}')
fi

# --locked keeps every crate at Hayabusa's Cargo.lock; with the evtx patch the lock's evtx entry
# must change (a path instead of the git rev), so cargo may rewrite that entry (and add what the
# local evtx needs that the lock lacks); every other crate keeps its locked version.
LOCKED=(--locked)
[ -n "$PATCHED" ] && LOCKED=()
( cd "$SRC" && nice -n 19 "${CARGO[@]}" build --release "${LOCKED[@]}" ) \
  || fail "cargo build failed in $SRC (see its output)"
cp "$SRC/target/release/hayabusa" "$OUT/bin/hayabusa"
# Hayabusa reads its config/ folder (profiles, levels, the EID/channel abbreviation tables) next to
# the binary, and rules/config/ (from the rules submodule: field aliases, channel and event tables),
# which every command checks for; logon-summary reads no rule itself.
rm -rf "$OUT/bin/config" && cp -r "$SRC/config" "$OUT/bin/"
rm -rf "$OUT/bin/rules"
if [ -d "$SRC/rules/config" ]; then cp -r "$SRC/rules" "$OUT/bin/"; fi
{
  echo "hayabusa: $ORIGIN"
  echo "rustc: $HAVE"
  echo "built: $(date -u +%FT%TZ), ${CARGO[*]} build --release ${LOCKED[*]}${PATCHED:+ ($PATCHED)}"
} >"$OUT/bin/BUILD-INFO.txt"
cat "$OUT/bin/BUILD-INFO.txt"
echo "built $OUT/bin/hayabusa ($TAG)"
