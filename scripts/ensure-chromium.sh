#!/usr/bin/env bash
# Make sure a Chromium the UI tests and benchmark can drive is present (Debian's /usr/bin/chromium,
# driven by playwright-core — no browser download). Present: say so. Missing: as root on Debian,
# install it with apt-get. Anything else: fail and say what to install.
# Prints the browser's path on stdout.
set -euo pipefail

say() { echo "[ensure-chromium] $*" >&2; }
path="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$path" ]; then
  say "$("$path" --version 2>/dev/null || echo chromium) at $path"
  echo "$path"
  exit 0
fi

if [ -n "${CHROMIUM_PATH:-}" ]; then
  say "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable; fix it or unset it"
  exit 1
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  say "Chromium is missing at $path: install it (Debian: sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium/Chrome binary"
  exit 1
fi

say "installing Debian package chromium (apt-get)"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/tmp/wheelhouse-apt-chromium.log 2>&1; then
  apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/tmp/wheelhouse-apt-chromium.log 2>&1; then
    tail -n 20 /tmp/wheelhouse-apt-chromium.log >&2
    say "apt-get install chromium failed (log: /tmp/wheelhouse-apt-chromium.log)"
    exit 1
  fi
fi
if [ ! -x "$path" ]; then
  say "chromium was installed but $path is missing"
  exit 1
fi
say "$("$path" --version 2>/dev/null || echo chromium) installed at $path"
echo "$path"
