#!/usr/bin/env bash
# System tools the tests use and npm cannot install: openssl and sha256sum (to verify packs as an
# auditor would) and poppler-utils (pdftotext, pdftoppm, pdfdetach, pdfinfo: to read the PDFs).
set -euo pipefail
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v sha256sum >/dev/null || missing+=(coreutils)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-system-deps: need ${missing[*]}; run as root or install them with your package manager" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
