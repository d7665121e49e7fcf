#!/usr/bin/env bash
# Sourced by the scripts of local test servers (registry.sh, pebble.sh): a test CA and a server certificate.
# make_test_tls <folder> <CA name> <server name> <subjectAltName>: ca.crt, ca.key, server.crt, server.key
# (keys 0600, folder 0700), made once; P-256 keys, valid 30 days.
make_test_tls() {
  local dir=$1
  [ -f "$dir/server.crt" ] && [ -f "$dir/ca.crt" ] && return
  mkdir -p "$dir"
  chmod 0700 "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$2" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$3" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$4" >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  chmod 0600 "$dir"/*.key
}
