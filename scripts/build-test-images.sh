#!/usr/bin/env bash
# Build the local images the integration tests use. No registry is reachable, so each image is
# `FROM scratch` plus Debian's static busybox (sh, httpd, nc, wget, nslookup …); udp-echo adds a
# small static UDP echo server/client compiled here (busybox's nc has no UDP).
# Images are tagged with TEST_IMAGE_VERSION; bump it when an image's content changes.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_IMAGE_VERSION=1
say() { echo "[build-test-images] $*" >&2; }

build() { # name dockerfile-body
  local tag="wheelhouse-test/$1:$TEST_IMAGE_VERSION"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    say "$tag is present"
    return
  fi
  local ctx
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  if [ -n "${3:-}" ]; then
    if ! command -v gcc >/dev/null; then say "gcc is needed to build $tag"; rm -rf "$ctx"; exit 1; fi
    gcc -static -Os -o "$ctx/$3" "test/fixtures/images/$3.c"
  fi
  printf '%s\n' "$2" >"$ctx/Dockerfile"
  say "building $tag"
  if ! docker build -q -t "$tag" --label "wheelhouse.test-image=$1" --label "wheelhouse.test-image.version=$TEST_IMAGE_VERSION" "$ctx" >"$ctx/build.log" 2>&1; then
    cat "$ctx/build.log" >&2; rm -rf "$ctx"; say "building $tag failed"; exit 1
  fi
  rm -rf "$ctx"
}

build busybox 'FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/sbin", "/usr/sbin", "/tmp", "/etc", "/root", "/var/www"]
RUN ["/bin/busybox", "--install", "-s"]
RUN echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd && echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> /etc/passwd && echo "root:x:0:" > /etc/group && chmod 1777 /tmp
ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin
CMD ["sh"]'

build udp-echo "FROM wheelhouse-test/busybox:$TEST_IMAGE_VERSION
COPY udp-echo /bin/udp-echo
"'CMD ["/bin/udp-echo", "serve", "9000"]' udp-echo

echo "$TEST_IMAGE_VERSION"
