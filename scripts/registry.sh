#!/usr/bin/env bash
# A local registry for tests of servers that cannot reach Docker Hub: the Debian package docker-registry,
# served over TLS with a certificate from a test CA, on the lab network's gateway address (tests/registry).
# It holds the images tests/images/build.sh builds, under the official names the role defaults pin.
#   scripts/registry.sh up     certificate, config and the registry (after scripts/lab.sh up made the network)
#   scripts/registry.sh push   tags and pushes every image under its official name
#   scripts/registry.sh down   stops the registry and removes its data
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

address=${PLUSPTT_REGISTRY_ADDRESS:-172.30.77.1}
port=${PLUSPTT_REGISTRY_PORT:-5443}
run_dir=tests/registry/.run
tls=$run_dir/tls
pid_file=$run_dir/registry.pid

log() { printf '[registry] %s\n' "$*"; }
die() { printf '[registry] ERROR: %s\n' "$*" >&2; exit 1; }

make_tls() {
  [ -f "$tls/server.crt" ] && [ -f "$tls/ca.crt" ] && return
  log "making a test CA and the registry's certificate for $address"
  mkdir -p "$tls"
  chmod 0700 "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=PlusPTT test registry CA" -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$address" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' "$address" \
    >"$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 30 \
    -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
  chmod 0600 "$tls"/*.key
}

running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

up() {
  command -v docker-registry >/dev/null || die "docker-registry is missing: bash scripts/test.sh bootstrap installs it"
  # grep reads all of ip's output: with -q an early exit would fail the pipeline (pipefail) now and then.
  ip -o addr show | grep " $address/" >/dev/null || die "no interface has $address: run scripts/lab.sh up first"
  make_tls
  mkdir -p "$run_dir/data"
  cat >"$run_dir/config.yml" <<CONFIG
---
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $repo/$run_dir/data
http:
  addr: $address:$port
  tls:
    certificate: $repo/$tls/server.crt
    key: $repo/$tls/server.key
CONFIG
  if ! running; then
    log "starting docker-registry on https://$address:$port"
    nohup docker-registry serve "$run_dir/config.yml" >"$run_dir/registry.log" 2>&1 &
    echo $! >"$pid_file"
  fi
  for _ in $(seq 1 50); do
    curl -fsS --cacert "$tls/ca.crt" "https://$address:$port/v2/" >/dev/null 2>&1 && { log "up"; return; }
    sleep 0.2
  done
  die "the registry did not answer: $(tail -5 "$run_dir/registry.log")"
}

push() {
  running || die "the registry is not running: scripts/registry.sh up"
  # This machine's engine trusts the test CA for the push only (certs.d is read per connection).
  local certs=/etc/docker/certs.d/$address:$port
  mkdir -p "$certs"
  cp "$tls/ca.crt" "$certs/ca.crt"
  local image official target
  while read -r image official; do
    target=$address:$port/$official
    docker tag "$image" "$target"
    docker push --quiet "$target" >/dev/null || die "pushing $target failed"
    docker rmi "$target" >/dev/null
    log "pushed $image as $official"
  done < <(.venv/bin/python tests/registry/images.py | sort -u)
}

down() {
  if running; then kill "$(cat "$pid_file")" || true; fi
  rm -rf "$run_dir" "/etc/docker/certs.d/$address:$port"
  log "down"
}

case "${1:-}" in
  up) up ;;
  push) push ;;
  down) down ;;
  *) die "usage: scripts/registry.sh up|push|down" ;;
esac
