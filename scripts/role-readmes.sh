#!/usr/bin/env bash
# Write the generated part of every role's README (between the BEGIN/END_ANSIBLE_DOCS markers) with aar-doc
# from the role's meta/argument_specs.yml and meta/main.yml; the part above the markers is written by hand.
#   scripts/role-readmes.sh            write them
#   scripts/role-readmes.sh --check    fail naming each README that is out of date
set -euo pipefail
cd "$(dirname "$0")/.."
template=$PWD/docs/roles/readme-variables.md.j2
aar_doc=${AAR_DOC:-.venv/bin/aar-doc}
stale=()
for role in roles/*/; do
  role=${role%/}
  readme=$role/README.md
  [ -f "$readme" ] || { echo "$readme is missing: write its head and the two markers" >&2; stale+=("$readme"); continue; }
  if [ "${1:-}" = --check ]; then
    copy=$(mktemp)
    cp "$readme" "$copy"
    "$aar_doc" --output-file "$copy" --output-template "$template" "$role" markdown >/dev/null
    cmp -s "$copy" "$readme" || stale+=("$readme")
    rm -f "$copy"
  else
    "$aar_doc" --output-template "$template" "$role" markdown >/dev/null
  fi
done
if [ ${#stale[@]} -gt 0 ]; then
  echo "role READMEs out of date: ${stale[*]}; run make role-docs" >&2
  exit 1
fi
