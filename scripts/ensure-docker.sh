#!/usr/bin/env bash
# Make sure a Docker engine answers. Order: an engine that already answers (DOCKER_HOST or the
# default socket); else start an installed dockerd in the background; else, as root on Debian,
# install docker.io and start it. Anything else: fail with what the user must install.
# Also makes sure busybox-static is present (the test images are built from it, no registry).
set -euo pipefail

say() { echo "[ensure-docker] $*" >&2; }

engine_up() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    return 1
  fi
  say "installing Debian packages: $* (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/tmp/wheelhouse-apt.log 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/tmp/wheelhouse-apt.log 2>&1
  fi
}

static_busybox() { [ -x /bin/busybox ] && { ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic'; }
if ! static_busybox; then
  apt_install busybox-static || { say "a static busybox is missing: install it (apt-get install busybox-static)"; exit 1; }
fi

if engine_up; then
  say "Docker engine $(docker info --format '{{.ServerVersion}}') is reachable"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ]; then
  say "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there; start that engine or unset DOCKER_HOST"
  exit 1
fi

if ! command -v dockerd >/dev/null; then
  say "no Docker engine answers and dockerd is not installed"
  if ! apt_install docker.io; then
    say "cannot install it here: install Docker (Debian: apt-get install docker.io) and start it"
    exit 1
  fi
fi

if [ "$(id -u)" != 0 ]; then
  say "no Docker engine answers; start it (sudo systemctl start docker) or run as root so this script can start dockerd"
  exit 1
fi

log=/var/log/wheelhouse-dockerd.log
say "no Docker engine answers: starting dockerd in the background (log: $log)"
# setsid: the engine outlives this script and the test run's process group.
setsid nohup dockerd --host unix:///var/run/docker.sock >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if engine_up; then
    say "Docker engine $(docker info --format '{{.ServerVersion}}') started (pid $(cat /var/run/docker.pid 2>/dev/null || echo '?'))"
    exit 0
  fi
  sleep 0.5
done
say "dockerd did not answer within 60 s; its log follows"
tail -n 30 "$log" >&2 || true
exit 1
