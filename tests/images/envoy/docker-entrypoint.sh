#!/bin/sh
# The official image's entrypoint contract: arguments starting with "-" go to envoy; $loglevel sets
# --log-level; started as root, it drops to the envoy user (ENVOY_UID/ENVOY_GID, 0 keeps root).
set -e
if [ "${1#-}" != "$1" ]; then set -- envoy "$@"; fi
if [ "$1" = envoy ] && [ -n "${loglevel:-}" ]; then set -- "$@" --log-level "$loglevel"; fi
if [ "$(id -u)" = 0 ] && [ "${ENVOY_UID:-101}" != 0 ]; then
    exec setpriv --reuid="${ENVOY_UID:-101}" --regid="${ENVOY_GID:-101}" --clear-groups "$@"
fi
exec "$@"
