#!/bin/sh
# Lab host entry point: host keys on first start, dockerd in the background, sshd in the foreground.
set -eu
mkdir -p /run/sshd
chmod 0755 /run/sshd
ssh-keygen -A >/dev/null
dockerd --storage-driver=overlay2 >/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e
