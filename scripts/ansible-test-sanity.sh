#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/plusptt/deploy: copy the checkout
# there and run the sanity tests offline-capable.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH=$repo/.venv/bin:$PATH

# ansible-test bootstraps pip in its venvs with a get-pip script it downloads from a host that proxies
# often block; this stand-in does the same with ensurepip and the configured package index.
pip_version=$(python - <<'PY'
import re, ansible_test, pathlib
source = pathlib.Path(ansible_test.__file__).parent.joinpath("_internal", "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -s "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cat > "$cache" <<'PY'
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
fi

work=$(mktemp -d /tmp/plusptt-sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
target=$work/ansible_collections/plusptt/deploy
mkdir -p "$target"
git ls-files -co --exclude-standard | grep -v '^\.collections/' | while read -r file; do
  [ -e "$file" ] && printf '%s\0' "$file"
done | xargs -0 cp --parents -P -t "$target"
cd "$target"
ansible-test sanity --local --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --requirements --color no "$@"
