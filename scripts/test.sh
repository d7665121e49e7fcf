#!/usr/bin/env bash
# Run every test of the collection, stage by stage; exit non-zero when any stage fails.
#   scripts/test.sh              all stages
#   scripts/test.sh unit lint    only the named stages
# In a run with stages that use the Docker engine, the checks that need none (lint, unit, sanity, build) run
# one after another in the background from where the first of them stands, beside the engine stages, which
# wait on their containers more than they compute; with bad-input, the modules stage runs in the background
# beside it; with e2e, the multihost stage runs in the background beside it (its lab is
# containers with their own engines, apart from the e2e host). Background logs are printed when the run ends.
# Each stage writes tests/output/stages/<stage>.log; the run ends with a table of every stage's seconds and
# the slowest tests of each pytest stage (tests/output/junit/<stage>.xml).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
repo=$PWD
export ANSIBLE_CONFIG=$repo/ansible.cfg
export PATH=$repo/.venv/bin:$PATH
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

all_stages=(bootstrap python-lint yaml-lint unit ansible-lint sanity build modules bad-input secret-scan e2e local-deploy
            multihost)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
logs=$repo/tests/output/stages
junit=$repo/tests/output/junit

# tools: what the stages without a Docker engine need (make test-quick); bootstrap adds the engine.
stage_tools() {
  # ansible-test sanity lints the scripts with shellcheck; the e2e TLS check runs testssl.sh; the daily
  # renewal test reads root's crontab only after the playbook installed cron (not installed here).
  local missing=()
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  command -v testssl >/dev/null 2>&1 || missing+=(testssl.sh)
  command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)  # the multi-host lab is reached over SSH
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)  # the lab's registry mirror
  command -v pebble >/dev/null 2>&1 || missing+=(pebble)  # the ACME server of the certificate tests
  command -v flock >/dev/null 2>&1 || missing+=(util-linux)  # tests/images/build.sh runs one build at a time
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)  # ansible.posix.synchronize sends sources to lab hosts
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)  # the unit test verifies the firewall unit
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  bash scripts/bootstrap.sh --dev
}
stage_bootstrap() { stage_tools && bash scripts/docker-engine.sh --base; }
stage_python-lint() { ruff check .; }
stage_yaml-lint() { yamllint -s .; }
stage_unit() { pytest -q -p no:cacheprovider -n 2 tests/unit; }
stage_ansible-lint() { ansible-lint --offline --profile production; }
stage_sanity() { bash scripts/ansible-test-sanity.sh; }
stage_build() {
  local out listing rc=0; out=$(mktemp -d)
  ansible-galaxy collection build --force --output-path "$out" . || rc=1
  listing=$(tar tzf "$out"/plusptt-deploy-*.tar.gz) || rc=1
  grep -qx 'plugins/modules/jwt_keys.py' <<<"$listing" || { echo "modules missing from the artifact"; rc=1; }
  # The version, the changelog (fragments valid, the release written) and the artifact agree.
  antsibull-changelog lint || rc=1
  python scripts/check-release.py "$out"/plusptt-deploy-*.tar.gz || rc=1
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

# Bad input: site.yml fails in its checks, names the variable and changes nothing on the host. The test
# images are built first, so a build in the background changes nothing while the host is compared.
# In a full run the modules stage runs in the background beside it (its plusptt-modtest-* containers are not
# part of the host bad-input compares).
stage_bad-input() { bash tests/images/build.sh && pytest -q -p no:cacheprovider -n 2 tests/integration; }
# No secret in the output of a -vvvv --diff converge, in container logs or in compose files; the stack
# it converged from nothing stays up for the e2e stage.
stage_secret-scan() { bash tests/images/build.sh && pytest -q -p no:cacheprovider tests/secret_scan; }
# The whole stack on this machine's engine: molecule converges playbooks/site.yml with the test
# inventory (over secret-scan's stack), checks idempotence and check mode, runs tests/e2e, then removes the stack.
stage_e2e() { bash tests/images/build.sh && molecule test -s default; }

# The README's deploy command on this machine (inventories/local), then make doctor, health and backup with
# the same inventory; the stack is removed after. It runs once e2e removed its stack (the same names).
stage_local-deploy() { pytest -q -p no:cacheprovider tests/local; }

# Several servers: a fresh lab of SSH hosts (scripts/lab.sh), molecule converges site.yml over SSH, checks
# idempotence and check mode, runs tests/multihost from outside the hosts, then each service role on its own
# (molecule/<role>) on the lab host in no group; the lab is removed after.
stage_multihost() {
  bash tests/images/build.sh && bash scripts/lab.sh down && bash scripts/lab.sh up || return 1
  local rc=0 scenario
  molecule test -s multihost || rc=1
  # Each service role on its own, as its README shows it; supabase first, the backend's database. The outsider
  # gets the app images the app host built (the same source and arguments, so the same tags): the roles find
  # them and skip the build, which the stack's converge has tested.
  bash scripts/lab.sh copy-images app outsider || rc=1
  for scenario in supabase backend frontend livekit nginx; do
    printf '\n[multihost] the %s role on its own\n' "$scenario"
    molecule test -s "$scenario" || rc=1
  done
  rm -rf tests/standalone/inventory/credentials
  bash scripts/lab.sh down || rc=1
  return $rc
}

declare -A seconds=() result=() mode=() cpu=()

# CPU seconds (user + system) of the processes this shell has waited for: what a stage computed on the
# controller side (containers' own processes are not counted).
# children_cpu FILE: writes the number to FILE; times runs in this shell (in a command substitution it
# would count that subshell's children only).
cpu_file=$(mktemp)
children_cpu() {
  times >"$1.times"
  tail -1 "$1.times" | awk '{ total = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); total += t[1] * 60 + t[2] }
                              printf "%d\n", total }' >"$1"
}

# run_stage NAME: in the foreground, its output on the terminal and in its log.
run_stage() {
  local stage=$1 start rc cpu_start
  order+=("$stage")
  printf '\n===== %s =====\n' "$stage"
  start=$(date +%s); children_cpu "$cpu_file"; cpu_start=$(cat "$cpu_file")
  PYTEST_ADDOPTS="--junitxml=$junit/$stage.xml" "stage_$stage" 2>&1 | tee "$logs/$stage.log"
  rc=${PIPESTATUS[0]}
  seconds[$stage]=$(( $(date +%s) - start )); mode[$stage]=foreground
  children_cpu "$cpu_file"; cpu[$stage]=$(( $(cat "$cpu_file") - cpu_start ))
  if [ "$rc" -eq 0 ]; then result[$stage]=ok; else result[$stage]=FAILED; fi
  printf '===== %s: %s (%ss)\n' "$stage" "${result[$stage]}" "${seconds[$stage]}"
  [ "$rc" -eq 0 ]
}

# start_chain STAGE...: runs the stages one after another in the background, each with its output in its
# own log only; join_chains prints each log and time when every chain has ended.
chain_pids=(); chain_stages=()
start_chain() {
  printf '\n===== %s: started in the background (logs: %s/<stage>.log) =====\n' "$*" "$logs"
  (
    for stage in "$@"; do
      start=$(date +%s); children_cpu "$cpu_file.$stage.start"
      PYTEST_ADDOPTS="--junitxml=$junit/$stage.xml" "stage_$stage" >"$logs/$stage.log" 2>&1
      rc=$?
      children_cpu "$cpu_file.$stage.end"
      echo "$rc $(( $(date +%s) - start )) $(( $(cat "$cpu_file.$stage.end") - $(cat "$cpu_file.$stage.start") ))" \
        >"$logs/$stage.result"
    done
  ) &
  chain_pids+=($!); chain_stages+=("$*")
}
join_chains() {
  local index stage rc elapsed cpu_seconds
  for index in "${!chain_pids[@]}"; do
    wait "${chain_pids[$index]}"
    for stage in ${chain_stages[$index]}; do
      read -r rc elapsed cpu_seconds <"$logs/$stage.result" 2>/dev/null || { rc=1; elapsed=0; cpu_seconds=0; }
      order+=("$stage")
      seconds[$stage]=$elapsed; mode[$stage]=background; cpu[$stage]=$cpu_seconds
      if [ "$rc" -eq 0 ]; then result[$stage]=ok; else result[$stage]=FAILED; fi
      printf '\n===== %s (ran in the background) =====\n' "$stage"
      cat "$logs/$stage.log"
      printf '===== %s: %s (%ss)\n' "$stage" "${result[$stage]}" "$elapsed"
    done
  done
  chain_pids=()
}

rm -rf "$logs" "$junit"
mkdir -p "$logs" "$junit"
run_start=$(date +%s)
in_list() { printf '%s\n' "${stages[@]}" | grep -qx "$1"; }
# Beside stages that wait on the engine more than they compute: the checks that need no engine (they start
# where the first of them stands in the list) and the multi-host lab (it starts with e2e, or where it stands
# when e2e is not run). Alone or with only each other, every stage runs in the foreground.
engine_stage=false
for stage in modules bad-input secret-scan e2e local-deploy multihost; do in_list "$stage" && engine_stage=true; done
static_chain=()
if $engine_stage; then
  for stage in python-lint yaml-lint ansible-lint unit sanity build; do in_list "$stage" && static_chain+=("$stage"); done
fi
multihost_beside=""
if [ ${#stages[@]} -gt 2 ] && in_list multihost; then
  multihost_beside=$(in_list e2e && echo e2e || echo multihost)
fi

modules_beside=false
in_list modules && in_list bad-input && modules_beside=true

static_started=false
for stage in "${stages[@]}"; do
  if [ "$stage" = modules ] && $modules_beside; then start_chain modules; continue; fi
  if [ ${#static_chain[@]} -gt 0 ] && printf '%s\n' "${static_chain[@]}" | grep -qx "$stage"; then
    $static_started || start_chain "${static_chain[@]}"
    static_started=true
    continue
  fi
  [ "$stage" = "$multihost_beside" ] && start_chain multihost
  [ -n "$multihost_beside" ] && [ "$stage" = multihost ] && continue
  if ! run_stage "$stage" && { [ "$stage" = bootstrap ] || [ "$stage" = tools ]; }; then break; fi
done
join_chains

wall=$(( $(date +%s) - run_start ))
passed=0; failed=0; failed_names=(); sum=0
echo
printf '%-14s %-8s %8s %8s  %s\n' stage result seconds cpu-s ran
for stage in "${order[@]}"; do
  printf '%-14s %-8s %8s %8s  %s\n' "$stage" "${result[$stage]}" "${seconds[$stage]}" "${cpu[$stage]}" "${mode[$stage]}"
  sum=$((sum + seconds[$stage]))
  if [ "${result[$stage]}" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_names+=("$stage"); fi
done
printf '%-14s %-8s %8s %8s  %s\n' sum "" "$sum" "" "stage seconds added up"
printf '%-14s %-8s %8s %8s  %s\n' wall-clock "" "$wall" "" "from the first stage to the last"
rm -f "$cpu_file" "$cpu_file".*
[ -x .venv/bin/python ] && .venv/bin/python scripts/slowest-tests.py "$junit" 10
echo
[ $failed -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
