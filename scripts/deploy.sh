#!/usr/bin/env bash
# The README's deploy command: install the controller stack in .venv, then run playbooks/site.yml.
#   INVENTORY=path/to/hosts.yml  deploy onto that inventory's servers (official images)
#   (default)                     deploy onto this machine (inventories/local)
# On this machine, when no container registry answers, the stack is deployed from images built
# locally (tests/images: real PostgreSQL, Redis and nginx; the test double for the images only a
# registry supplies), and the run says so.
set -euo pipefail
cd "$(dirname "$0")/.."
inventory=${INVENTORY:-inventories/local/hosts.yml}
export ANSIBLE_CONFIG=$PWD/ansible.cfg
bash scripts/bootstrap.sh
extra=()
if [ "$inventory" = inventories/local/hosts.yml ]; then
  bash scripts/docker-engine.sh --base
  probe=$(sed -n 's/^supabase_kong_image: *//p' roles/supabase/defaults/main.yml)
  if ! docker image inspect "$probe" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$probe" >/dev/null 2>&1; then
    echo "No container registry answers (could not pull $probe): deploying with the locally built images"
    echo "of tests/images instead. Configure a registry mirror (docker_registry_mirrors) for the official images."
    bash tests/images/build.sh
    extra=(-e "@tests/images/doubles.yml" -e "@tests/images/offline.yml")
  fi
fi
# shellcheck disable=SC2086 # ARGS holds extra ansible-playbook arguments
exec .venv/bin/ansible-playbook -i "$inventory" playbooks/site.yml "${extra[@]}" ${ARGS:-}
