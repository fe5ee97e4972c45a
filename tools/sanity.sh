#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<namespace>/<name>: copy the
# tracked (and, locally, new) files there and run it for the controller's Python.
# It runs from its own venv (.build/sanity-venv) because its pinned test requirements (pylint, ...)
# differ from the project's tools; --venv cannot be used offline (it downloads get-pip.py).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
core=$(grep -E '^ansible-core==' requirements.txt)
venv=.build/sanity-venv
if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "$core"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "$core" >/tmp/diskless-sanity-pip.log 2>&1 || { echo "sanity: could not install $core (see /tmp/diskless-sanity-pip.log)" >&2; exit 1; }
fi
# Offline pip bootstrap for the per-test venvs ansible-test creates (see tools/get-pip-offline.py).
pip_version=$(grep -hoE "pip='[0-9.]+'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1 | cut -d"'" -f2)
mkdir -p ~/.ansible/test/cache
cp tools/get-pip-offline.py ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
tree=.build/sanity/ansible_collections/diskless/datacenter
rm -rf .build/sanity
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tree"
cd "$tree"
git init -q . && git add -A >/dev/null   # ansible-test lists the collection's files through git
python_version=$("$repo/$venv/bin/python" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')
export PATH="$repo/$venv/bin:$PATH"
ansible-test sanity --local --requirements --python "$python_version" --color no "$@"
