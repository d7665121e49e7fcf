#!/usr/bin/env bash
# A local ACME server for tests of publicly trusted certificates: the Debian package pebble (Let's
# Encrypt's test CA, real RFC 8555) on 127.0.0.1:14000, with pebble-challtestsrv as its DNS server, which
# answers every name with 127.0.0.1. Pebble validates HTTP-01 challenges on port 8080: the e2e stack's nginx.
# Certificates are valid for 40 days, so a renewal window of more than 40 days makes any run renew.
#   scripts/pebble.sh up      TLS certificate of the directory, config, both servers
#   scripts/pebble.sh down    stops them and removes tests/acme/.run
#   scripts/pebble.sh root    prints the root certificate pebble signs with (a new one each start)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/test-tls.sh
. scripts/test-tls.sh

run_dir=tests/acme/.run
tls=$run_dir/tls
http_port=${PLUSPTT_PEBBLE_HTTP_PORT:-8080}

log() { printf '[pebble] %s\n' "$*"; }
die() { printf '[pebble] ERROR: %s\n' "$*" >&2; exit 1; }

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

up() {
  command -v pebble >/dev/null || die "pebble is missing: bash scripts/test.sh bootstrap installs it"
  # The directory's own HTTPS certificate, from a test CA the ACME client is told to trust.
  make_test_tls "$tls" "PlusPTT test ACME directory CA" localhost "DNS:localhost,IP:127.0.0.1"
  cat >"$run_dir/pebble.json" <<CONFIG
{
  "pebble": {
    "listenAddress": "127.0.0.1:14000",
    "managementListenAddress": "127.0.0.1:15000",
    "certificate": "$PWD/$tls/server.crt",
    "privateKey": "$PWD/$tls/server.key",
    "httpPort": $http_port,
    "tlsPort": 5001,
    "ocspResponderURL": "http://127.0.0.1:4002/",
    "externalAccountBindingRequired": false,
    "certificateValidityPeriod": 3456000
  }
}
CONFIG
  if ! running "$run_dir/dns.pid"; then
    log "starting pebble-challtestsrv (DNS on 127.0.0.1:8053, every name is 127.0.0.1)"
    nohup pebble-challtestsrv -dns01 127.0.0.1:8053 -http01 "" -https01 "" -tlsalpn01 "" \
      -management 127.0.0.1:8055 -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$run_dir/dns.log" 2>&1 &
    echo $! >"$run_dir/dns.pid"
  fi
  if ! running "$run_dir/pebble.pid"; then
    log "starting pebble on https://127.0.0.1:14000/dir (HTTP-01 checked on port $http_port)"
    # Every order gets fresh challenges (no reuse of earlier authorizations), as a renewal test needs.
    PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 nohup pebble -config "$run_dir/pebble.json" \
      -dnsserver 127.0.0.1:8053 >"$run_dir/pebble.log" 2>&1 &
    echo $! >"$run_dir/pebble.pid"
  fi
  for _ in $(seq 1 50); do
    curl -fsS --cacert "$tls/ca.crt" https://127.0.0.1:14000/dir >/dev/null 2>&1 && { log "up"; return; }
    sleep 0.2
  done
  die "pebble did not answer: $(tail -5 "$run_dir/pebble.log")"
}

stop() {
  local pid
  for pid in "$run_dir/pebble.pid" "$run_dir/dns.pid"; do
    if running "$pid"; then kill "$(cat "$pid")" || true; fi
    rm -f "$pid"
  done
}

case "${1:-}" in
  up) up ;;
  stop) stop; log "stopped" ;;
  down) stop; rm -rf "$run_dir"; log "down" ;;
  root) curl -fsS --cacert "$tls/ca.crt" https://127.0.0.1:15000/roots/0 ;;
  *) die "usage: scripts/pebble.sh up|stop|down|root" ;;
esac
