#!/usr/bin/env bash
# Create .venv with the controller stack (and, with --dev, the test tools). Re-runs are no-ops
# until a requirements file changes.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
requirements=requirements.txt
if [ "${1:-}" = "--dev" ]; then requirements="requirements-dev.txt"; fi
stamp=.venv/.installed-$(cat requirements.txt "$requirements" | sha256sum | cut -c1-16)-${requirements%.txt}
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  touch "$stamp"
fi
# ansible.cfg finds mitogen's strategy plugins here, whatever the Python version in the path.
if [ ! -e .venv/mitogen-strategy ]; then
  ln -sfn "$(.venv/bin/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy" \
    .venv/mitogen-strategy
fi
