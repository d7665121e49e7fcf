#!/usr/bin/env bash
# A lab of SSH test hosts for multi-host tests: containers on this machine's Docker engine, each with
# its own Docker engine inside, reached by Ansible over SSH only (tests/lab/inventory, tests/lab/README.md).
#   scripts/lab.sh up          key, image, network and hosts; the test registry the hosts pull from
#   scripts/lab.sh down        removes the lab hosts, their volumes and the network (plusptt-lab-* only)
#   scripts/lab.sh ssh-config  prints an ssh_config snippet for the hosts (ssh -F <(...) plusptt-lab-db)
#   scripts/lab.sh copy-images FROM TO   loads the app images host FROM built into host TO (app outsider)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export DOCKER_BUILDKIT=0

# Hosts (container plusptt-lab-<name>): address on the lab network, sshd on 127.0.0.1:<port>, and
# further ports published on 127.0.0.1. tests/lab/inventory/hosts.yml uses the same addresses and ports.
LAB_HOSTS=(db app media1 media2 outsider)
declare -A LAB_IP=([db]=172.30.77.11 [app]=172.30.77.12 [media1]=172.30.77.21 [media2]=172.30.77.22 [outsider]=172.30.77.99)
declare -A LAB_SSH_PORT=([db]=22011 [app]=22012 [media1]=22021 [media2]=22022 [outsider]=22099)
declare -A LAB_PUBLISH=([app]="127.0.0.1:9080:80 127.0.0.1:9443:443")
# media2 is reached as most servers are: a user with sudo, sshd moved to 2222 (still listening on 22, which the
# firewall must close). Its published SSH port leads to the last of its sshd ports.
declare -A LAB_SSHD_PORTS=([media2]="22 2222")
declare -A LAB_SUDO_USER=([media2]=deploy)

# The Debian release of each host: Debian 12 unless named here (the platforms meta/ and galaxy.yml claim).
declare -A LAB_SUITE=([media1]=trixie)

network=plusptt-lab
subnet=172.30.77.0/24
image=plusptt-lab/host:1
base_image=${PLUSPTT_TEST_BASE_IMAGE:-plusptt-test/debian:bookworm}
# Named plusptt-lab/*, so the bad-input stage's comparison of this machine's images leaves it aside.
declare -A SUITE_BASE=([trixie]=plusptt-lab/debian:trixie)
ca_bundle=${PLUSPTT_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
host_dir=tests/lab/host
key=tests/lab/.ssh/id_ed25519
wait_seconds=${PLUSPTT_LAB_WAIT:-120}

log() { printf '[lab] %s\n' "$*"; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

ssh_opts() {
  printf '%s\n' -i "$repo/$key" -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
}

make_key() {
  if [ -f "$key" ] && [ -f "$key.pub" ]; then return; fi
  log "generating the SSH key $key"
  mkdir -p "$(dirname "$key")"
  chmod 0700 "$(dirname "$key")"
  rm -f "$key" "$key.pub"
  ssh-keygen -q -t ed25519 -N '' -C plusptt-lab -f "$key"
  chmod 0600 "$key"
  chmod 0644 "$key.pub"
}

compose_binary() {
  [ -x .venv/bin/python ] || bash scripts/bootstrap.sh --dev
  .venv/bin/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))'
}

# host_image NAME: the image of the lab host NAME (plusptt-lab/host:1, or :1-<suite> for another release).
host_image() {
  local suite=${LAB_SUITE[$1]:-}
  if [ -n "$suite" ]; then echo "$image-$suite"; else echo "$image"; fi
}

# build_image [SUITE]: the host image of Debian 12, or of SUITE. Rebuilt only when tests/lab/host or the
# Compose plugin changed (the digest is an image label).
build_image() {
  local suite=${1:-} image=$image base_image=$base_image compose_bin digest current
  if [ -n "$suite" ]; then
    image=$image-$suite base_image=${SUITE_BASE[$suite]}
    docker image inspect "$base_image" >/dev/null 2>&1 || bash scripts/docker-engine.sh --debian "$suite" "$base_image"
  fi
  compose_bin=$(compose_binary)
  [ -f "$compose_bin" ] || die "the docker-compose binary is missing: $compose_bin"
  digest=$( { (cd "$host_dir" && find . -type f ! -name extra-ca.crt ! -name docker-compose -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum); sha256sum <"$compose_bin"; echo "$base_image"; } | sha256sum | cut -c1-16)
  current=$(docker image inspect -f '{{ index .Config.Labels "plusptt.lab-image-digest" }}' "$image" 2>/dev/null || true)
  if [ "$current" = "$digest" ]; then
    log "$image is up to date"
    return
  fi
  docker image inspect "$base_image" >/dev/null 2>&1 || bash scripts/docker-engine.sh --base
  log "building $image"
  if [ -r "$ca_bundle" ]; then cp "$ca_bundle" "$host_dir/extra-ca.crt"; else : >"$host_dir/extra-ca.crt"; fi
  cp "$compose_bin" "$host_dir/docker-compose"
  local rc=0 build_log
  build_log=$(mktemp)
  docker build --build-arg BASE_IMAGE="$base_image" --label plusptt.lab-image-digest="$digest" \
    -t "$image" "$host_dir" >"$build_log" 2>&1 || rc=$?
  rm -f "$host_dir/extra-ca.crt" "$host_dir/docker-compose"
  [ "$rc" -eq 0 ] || { tail -30 "$build_log" >&2; rm -f "$build_log"; die "building $image failed"; }
  rm -f "$build_log"
}

make_network() {
  if docker network inspect "$network" >/dev/null 2>&1; then return; fi
  log "creating network $network ($subnet)"
  docker network create --driver bridge --subnet "$subnet" --label plusptt.lab=1 "$network" >/dev/null
}

# A host is kept while it runs with the same settings (image, address, ports, key); otherwise it is
# made again. Its engine's data (/var/lib/docker) is on the volume plusptt-lab-<name>-docker and stays.
start_host() {
  local name=$1 container=plusptt-lab-$1 image_id config current state
  local sshd_ports=${LAB_SSHD_PORTS[$name]:-22} sudo_user=${LAB_SUDO_USER[$name]:-}
  local ports=(-p "127.0.0.1:${LAB_SSH_PORT[$name]}:${sshd_ports##* }")
  local publish
  for publish in ${LAB_PUBLISH[$name]:-}; do ports+=(-p "$publish"); done
  image_id=$(docker image inspect -f '{{ .Id }}' "$(host_image "$name")")
  config=$(printf '%s\n' "$image_id" "${LAB_IP[$name]}" "${ports[*]}" "$(cat "$key.pub")" "$sshd_ports" "$sudo_user" \
    | sha256sum | cut -c1-16)
  current=$(docker container inspect -f '{{ index .Config.Labels "plusptt.lab-config" }} {{ .State.Status }}' \
    "$container" 2>/dev/null || true)
  state=${current#* }
  if [ "${current%% *}" = "$config" ]; then
    if [ "$state" = running ]; then
      log "$container is running"
      return
    fi
    log "starting $container"
    docker start "$container" >/dev/null
    return
  fi
  if [ -n "$current" ]; then
    log "replacing $container (its settings changed)"
    docker rm -f "$container" >/dev/null
  else
    log "creating $container (${LAB_IP[$name]}, ssh 127.0.0.1:${LAB_SSH_PORT[$name]})"
  fi
  docker run -d --name "$container" --hostname "$container" \
    --label plusptt.lab=1 --label plusptt.lab-config="$config" \
    --restart unless-stopped \
    --network "$network" --ip "${LAB_IP[$name]}" "${ports[@]}" \
    -e LAB_SSHD_PORTS="$sshd_ports" -e LAB_SUDO_USER="$sudo_user" \
    --cap-add=ALL --cap-drop=SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --tmpfs /run:rw,exec,mode=0755 \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    -v "$container-docker":/var/lib/docker \
    -v "$repo/$key.pub":/root/.ssh/authorized_keys:ro \
    "$(host_image "$name")" >/dev/null
}

wait_host() {
  local name=$1 container=plusptt-lab-$1 deadline
  local opts
  mapfile -t opts < <(ssh_opts)
  deadline=$((SECONDS + wait_seconds))
  until docker exec "$container" docker info >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || {
      docker exec "$container" tail -20 /var/log/dockerd.log >&2 || true
      die "the engine in $container does not answer"
    }
    sleep 1
  done
  until ssh "${opts[@]}" -p "${LAB_SSH_PORT[$name]}" root@127.0.0.1 true </dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { docker logs --tail 20 "$container" >&2; die "sshd in $container refuses the key"; }
    sleep 1
  done
}

cmd_up() {
  local name
  make_key
  bash scripts/docker-engine.sh
  build_image
  local suite
  for suite in $(printf '%s\n' "${LAB_SUITE[@]}" | sort -u); do build_image "$suite"; done
  make_network
  for name in "${LAB_HOSTS[@]}"; do start_host "$name"; done
  for name in "${LAB_HOSTS[@]}"; do wait_host "$name"; done
  log "hosts answer over SSH"
  # No image is loaded into the hosts: they pull through the test registry, a Docker Hub mirror.
  bash tests/images/build.sh
  bash scripts/registry.sh up
  bash scripts/registry.sh push
  log "lab is up: ansible -i tests/lab/inventory/hosts.yml plusptt -m ansible.builtin.ping"
}

cmd_down() {
  local name container
  bash scripts/registry.sh down
  for name in "${LAB_HOSTS[@]}"; do
    container=plusptt-lab-$name
    if docker container inspect "$container" >/dev/null 2>&1; then
      log "removing $container"
      docker rm -f "$container" >/dev/null
    fi
    if docker volume inspect "$container-docker" >/dev/null 2>&1; then
      log "removing volume $container-docker"
      docker volume rm "$container-docker" >/dev/null
    fi
  done
  if docker network inspect "$network" >/dev/null 2>&1; then
    log "removing network $network"
    docker network rm "$network" >/dev/null
  fi
}

# copy-images FROM TO: the app images (plusptt/*) lab host FROM built, loaded into lab host TO: a warm cache, as
# on a server that built them before. A role that finds the image of its tag there does not build it again.
cmd_copy_images() {
  local from=plusptt-lab-$1 to=plusptt-lab-$2 images
  mapfile -t images < <(docker exec "$from" docker images --format '{{.Repository}}:{{.Tag}}' 'plusptt/*')
  if [ ${#images[@]} -eq 0 ]; then log "no plusptt/* image on $from"; return 0; fi
  log "loading ${images[*]} from $from into $to"
  docker exec "$from" docker save "${images[@]}" | docker exec -i "$to" docker load >/dev/null
}

cmd_ssh_config() {
  local name
  for name in "${LAB_HOSTS[@]}"; do
    printf 'Host plusptt-lab-%s\n  HostName 127.0.0.1\n  Port %s\n  User root\n  IdentityFile %s\n' \
      "$name" "${LAB_SSH_PORT[$name]}" "$repo/$key"
    printf '  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n\n'
  done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  ssh-config) cmd_ssh_config ;;
  copy-images) [ $# -eq 3 ] || { echo "usage: $0 copy-images FROM TO" >&2; exit 2; }; cmd_copy_images "$2" "$3" ;;
  *) echo "usage: $0 up|down|ssh-config|copy-images FROM TO" >&2; exit 2 ;;
esac
