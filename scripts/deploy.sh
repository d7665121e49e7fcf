#!/usr/bin/env bash
# The README's deploy command: install the controller stack in .venv, then run playbooks/site.yml.
#   INVENTORY=path/to/hosts.yml  deploy onto that inventory's servers (official images)
#   (default)                     deploy onto this machine (inventories/local)
# On this machine, when no container registry answers, the stack is deployed from images built
# locally (tests/images: real PostgreSQL, Redis and nginx; the test double for the images only a
# registry supplies), and the run says so; their settings are kept in the local inventory for day-2 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
inventory=${INVENTORY:-inventories/local/hosts.yml}
export ANSIBLE_CONFIG=$PWD/ansible.cfg
bash scripts/bootstrap.sh
# With the local images, their settings go where the inventory reads them, so every day-2 playbook run with
# this inventory (make doctor, make backup, ...) sees what the deploy used.
local_images=inventories/local/group_vars/all/local_images.yml
if [ "$inventory" = inventories/local/hosts.yml ]; then
  bash scripts/docker-engine.sh --base
  probe=$(sed -n 's/^supabase_kong_image: *//p' roles/supabase/defaults/main.yml)
  if ! docker image inspect "$probe" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$probe" >/dev/null 2>&1; then
    echo "No container registry answers (could not pull $probe): deploying with the locally built images"
    echo "of tests/images instead. Configure a registry mirror (docker_registry_mirrors) for the official images."
    bash tests/images/build.sh
    {
      echo "---"
      echo "# Written by scripts/deploy.sh: no registry answered, so this machine runs the images of tests/images."
      echo "# main.yml beside this file wins where both set a value. Removed when a registry answers."
      grep -hv '^---$' tests/images/doubles.yml tests/images/offline.yml
    } >"$local_images.tmp"
    mv "$local_images.tmp" "$local_images"
  else
    rm -f "$local_images"
  fi
fi
# shellcheck disable=SC2086 # ARGS holds extra ansible-playbook arguments
exec .venv/bin/ansible-playbook -i "$inventory" playbooks/site.yml ${ARGS:-}
