#!/bin/sh
# Same contract as the official image: flags or a .conf file are arguments of redis-server.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = "redis-server" ]; then
  shift
  set -- redis-server --protected-mode no --bind 0.0.0.0 --dir /data "$@"
  chown -R redis:redis /data 2>/dev/null || true
  exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
