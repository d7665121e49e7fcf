#!/usr/bin/env bash
# A local registry for tests of servers that cannot reach Docker Hub: the Debian package docker-registry,
# served over TLS with a certificate from a test CA, on the lab network's gateway address (tests/registry).
# It holds the images tests/images/build.sh builds, under the official names the role defaults pin.
# A second, read-only instance on the same storage asks for a login: a private registry with its own name.
# A third, on loopback over plain HTTP, takes the pushes: this machine's engine treats 127.0.0.0/8 as an
# insecure registry by default, so nothing under /etc/docker changes here (the e2e host's record reads it).
#   scripts/registry.sh up     certificate, config and both instances (after scripts/lab.sh up made the network)
#   scripts/registry.sh push   tags and pushes every image under its official name
#   scripts/registry.sh down   stops the registry and removes its data
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/test-tls.sh
. scripts/test-tls.sh
repo=$PWD

address=${PLUSPTT_REGISTRY_ADDRESS:-172.30.77.1}
port=${PLUSPTT_REGISTRY_PORT:-5443}
private_port=${PLUSPTT_PRIVATE_REGISTRY_PORT:-5444}
push_port=${PLUSPTT_PUSH_REGISTRY_PORT:-5445}
run_dir=tests/registry/.run
tls=$run_dir/tls
auth=$run_dir/auth
pid_file=$run_dir/registry.pid
private_pid_file=$run_dir/private.pid
push_pid_file=$run_dir/push.pid

log() { printf '[registry] %s\n' "$*"; }
die() { printf '[registry] ERROR: %s\n' "$*" >&2; exit 1; }

# The login of the private instance: user plusptt-deploy, a random password in $auth/password (0600).
make_auth() {
  [ -f "$auth/htpasswd" ] && [ -f "$auth/password" ] && return
  mkdir -p "$auth"
  chmod 0700 "$auth"
  (umask 077 && openssl rand -hex 16 >"$auth/password")
  # The registry reads bcrypt only; the system Python's crypt makes it.
  python3 -W ignore -c 'import crypt, sys; print("plusptt-deploy:" + crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
    "$(cat "$auth/password")" >"$auth/htpasswd"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# config <port> [private|push]: the configuration of one instance; the private one is read-only and asks for
# a login; the push one listens on loopback without TLS.
config() {
  local read_only=false listen=$address
  [ "${2:-}" = private ] && read_only=true
  [ "${2:-}" = push ] && listen=127.0.0.1
  cat <<CONFIG
---
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $repo/$run_dir/data
  maintenance:
    readonly:
      enabled: $read_only
http:
  addr: $listen:$1
CONFIG
  if [ "${2:-}" != push ]; then
    printf '  tls:\n    certificate: %s\n    key: %s\n' "$repo/$tls/server.crt" "$repo/$tls/server.key"
  fi
  if [ "${2:-}" = private ]; then
    printf 'auth:\n  htpasswd:\n    realm: plusptt-test\n    path: %s\n' "$repo/$auth/htpasswd"
  fi
}

# serve <config> <pid file> <log> <URL>: start an instance unless it runs, then wait for its answer.
serve() {
  if ! running "$2"; then
    log "starting docker-registry on $4"
    nohup docker-registry serve "$1" >"$3" 2>&1 &
    echo $! >"$2"
  fi
  local code
  for _ in $(seq 1 50); do
    # 200 from the mirror, 401 from the private instance: either way it answers.
    code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$tls/ca.crt" "$4/v2/" 2>/dev/null || true)
    case "$code" in 200|401) return ;; esac
    sleep 0.2
  done
  die "the registry on port $4 did not answer: $(tail -5 "$3")"
}

up() {
  command -v docker-registry >/dev/null || die "docker-registry is missing: bash scripts/test.sh bootstrap installs it"
  # grep reads all of ip's output: with -q an early exit would fail the pipeline (pipefail) now and then.
  ip -o addr show | grep " $address/" >/dev/null || die "no interface has $address: run scripts/lab.sh up first"
  make_test_tls "$tls" "PlusPTT test registry CA" "$address" "IP:$address,IP:127.0.0.1,DNS:localhost"
  make_auth
  mkdir -p "$run_dir/data"
  config "$port" >"$run_dir/config.yml"
  config "$private_port" private >"$run_dir/private.yml"
  config "$push_port" push >"$run_dir/push.yml"
  serve "$run_dir/config.yml" "$pid_file" "$run_dir/registry.log" "https://$address:$port"
  serve "$run_dir/private.yml" "$private_pid_file" "$run_dir/private.log" "https://$address:$private_port"
  serve "$run_dir/push.yml" "$push_pid_file" "$run_dir/push.log" "http://127.0.0.1:$push_port"
  log "up"
}

push() {
  running "$push_pid_file" || die "the registry is not running: scripts/registry.sh up"
  local image official target
  while read -r image official; do
    target=127.0.0.1:$push_port/$official
    docker tag "$image" "$target"
    docker push --quiet "$target" >/dev/null || die "pushing $target failed"
    docker rmi "$target" >/dev/null
    log "pushed $image as $official"
  done < <(.venv/bin/python tests/registry/images.py | sort -u)
}

down() {
  local pid
  for pid in "$pid_file" "$private_pid_file" "$push_pid_file"; do
    if running "$pid"; then kill "$(cat "$pid")" || true; fi
  done
  rm -rf "$run_dir"
  log "down"
}

case "${1:-}" in
  up) up ;;
  push) push ;;
  down) down ;;
  *) die "usage: scripts/registry.sh up|push|down" ;;
esac
