#!/bin/sh
# Lab host entry point: host keys on first start, dockerd in the background, sshd in the foreground.
#   LAB_SSHD_PORTS   the ports sshd listens on (default 22)
#   LAB_SUDO_USER    a user who logs in with the lab key and has passwordless sudo, as on most servers
set -eu
mkdir -p /run/sshd
chmod 0755 /run/sshd
ssh-keygen -A >/dev/null
: >/etc/ssh/sshd_config.d/ports.conf
for port in ${LAB_SSHD_PORTS:-22}; do echo "Port $port" >>/etc/ssh/sshd_config.d/ports.conf; done
if [ -n "${LAB_SUDO_USER:-}" ]; then
  id "$LAB_SUDO_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$LAB_SUDO_USER"
  home=$(getent passwd "$LAB_SUDO_USER" | cut -d: -f6)
  install -d -m 0700 -o "$LAB_SUDO_USER" -g "$LAB_SUDO_USER" "$home/.ssh"
  install -m 0600 -o "$LAB_SUDO_USER" -g "$LAB_SUDO_USER" /root/.ssh/authorized_keys "$home/.ssh/authorized_keys"
  echo "$LAB_SUDO_USER ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/lab
  chmod 0440 /etc/sudoers.d/lab
fi
# /proc/sys is read-only in the lab container: Docker 26 and newer (Debian 13) fail to start a container when
# they cannot turn IPv6 off on its IPv4-only interface, unless told to go on (a server has no such limit).
DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1 dockerd --storage-driver=overlay2 >/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e
