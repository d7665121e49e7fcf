#!/usr/bin/env bash
# Run every test of the collection, stage by stage; exit non-zero when any stage fails.
#   scripts/test.sh              all stages
#   scripts/test.sh unit lint    only the named stages
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$PWD
export ANSIBLE_CONFIG=$repo/ansible.cfg
export PATH=$repo/.venv/bin:$PATH
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

all_stages=(bootstrap python-lint yaml-lint unit ansible-lint sanity build modules bad-input secret-scan e2e multihost)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")

stage_bootstrap() {
  # ansible-test sanity lints the scripts with shellcheck; the e2e TLS check runs testssl.sh.
  local missing=()
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  command -v testssl >/dev/null 2>&1 || missing+=(testssl.sh)
  command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)  # the multi-host lab is reached over SSH
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)  # the lab's registry mirror
  command -v pebble >/dev/null 2>&1 || missing+=(pebble)  # the ACME server of the certificate tests
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  bash scripts/bootstrap.sh --dev && bash scripts/docker-engine.sh --base
}
stage_python-lint() { ruff check .; }
stage_yaml-lint() { yamllint -s .; }
stage_unit() { pytest -q -p no:cacheprovider tests/unit; }
stage_ansible-lint() { ansible-lint --offline --profile production; }
stage_sanity() { bash scripts/ansible-test-sanity.sh; }
stage_build() {
  local out listing rc=0; out=$(mktemp -d)
  ansible-galaxy collection build --force --output-path "$out" . || rc=1
  listing=$(tar tzf "$out"/plusptt-deploy-*.tar.gz) || rc=1
  grep -qx 'plugins/modules/jwt_keys.py' <<<"$listing" || { echo "modules missing from the artifact"; rc=1; }
  if grep -E '(^|/)(credentials|tests|\.venv|\.collections)/' <<<"$listing"; then
    echo "the artifact holds files it must not"; rc=1
  fi
  rm -rf "$out"; return $rc
}
stage_modules() {
  local dir; dir=$(mktemp -d)
  PLUSPTT_MODULE_TEST_DIR=$dir ansible-playbook -i localhost, \
    -e ansible_python_interpreter="$repo/.venv/bin/python" tests/playbooks/modules.yml
  local rc=$?; rm -rf "$dir"; return $rc
}

# Bad input: site.yml fails in its checks, names the variable and changes nothing on the host.
stage_bad-input() { pytest -q -p no:cacheprovider -n 2 tests/integration; }
# No secret in the output of a -vvvv --diff converge, in container logs or in compose files; the stack
# it converged from nothing stays up for the e2e stage.
stage_secret-scan() { bash tests/images/build.sh && pytest -q -p no:cacheprovider tests/secret_scan; }
# The whole stack on this machine's engine: molecule converges playbooks/site.yml with the test
# inventory (over secret-scan's stack), checks idempotence and check mode, runs tests/e2e, then removes the stack.
stage_e2e() { bash tests/images/build.sh && molecule test -s default; }

# Several servers: a fresh lab of SSH hosts (scripts/lab.sh), molecule converges site.yml over SSH, checks
# idempotence and check mode, runs tests/multihost from outside the hosts; the lab is removed after.
stage_multihost() {
  bash tests/images/build.sh && bash scripts/lab.sh down && bash scripts/lab.sh up || return 1
  local rc=0
  molecule test -s multihost || rc=1
  bash scripts/lab.sh down || rc=1
  return $rc
}

passed=0; failed=0; failed_names=()
for stage in "${stages[@]}"; do
  printf '\n===== %s =====\n' "$stage"
  start=$(date +%s)
  if "stage_$stage"; then
    passed=$((passed + 1)); printf '===== %s: ok (%ss)\n' "$stage" $(( $(date +%s) - start ))
  else
    failed=$((failed + 1)); failed_names+=("$stage"); printf '===== %s: FAILED (%ss)\n' "$stage" $(( $(date +%s) - start ))
    [ "$stage" = bootstrap ] && break
  fi
done
echo
[ $failed -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
