#!/usr/bin/env bash
# Run `ansible-test sanity` for edgefleet.k3s, offline-friendly.
#
# ansible-test only works from a directory named .../ansible_collections/<namespace>/<name>, so the working
# tree (tracked and new, not ignored, files) is copied to a temporary tree of that shape first.
#
# `--docker` cannot work here (no Docker engine, no registry). ansible-test runs `--local` from a venv of
# its own (.ansible/sanity-venv, git-ignored; never the project's .venv, whose pins the sanity tools would
# change) and, as always, builds one venv per sanity test with that test's pinned tools from PyPI.
# Those venvs get pip from a bootstrap script ansible-test downloads from ci-files.testing.ansible.com,
# which is unreachable here; the script below stands in for it (ensurepip, then the pinned pip from PyPI).
# HOME points into .ansible/sanity-home so that the stand-in and the venvs stay inside the repository.
#
# Usage: tests/tools/sanity.sh [ansible-test sanity options and targets]
#   default: every sanity test for the whole collection on Python 3.11
#   example: tests/tools/sanity.sh --test pylint plugins/module_utils/_k3s_config.py
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${EDGEFLEET_SANITY_VENV:-$repo/.ansible/sanity-venv}
python=${PYTHON:-python3.11}
core_pin=$(grep -E '^ansible-core==' "$repo/requirements-dev.txt")

if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/pip" show -q "${core_pin%%==*}" 2>/dev/null ||
        [ "$("$venv/bin/python" -c 'import ansible; print(ansible.__version__)')" != "${core_pin##*==}" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$core_pin"
fi

# Resolve the interpreter before HOME changes (pyenv shims look for their root under HOME).
real_python=$("$venv/bin/python" -c 'import sys, os; print(os.path.realpath(sys._base_executable))')
export HOME=$repo/.ansible/sanity-home
pip_version=$(grep -oE "pip='[0-9.]+'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py |
    head -n1 | tr -d "pi='")
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$get_pip")"
cat > "$get_pip" <<PY
# Stand-in for get-pip.py (written by tests/tools/sanity.sh): same arguments, installs from PyPI.
import subprocess
import sys

# In a child process: ensurepip blanks the pip configuration (CA bundle, mirrors) of the process it runs in.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
PY

work=$(mktemp -d "${TMPDIR:-/tmp}/edgefleet-k3s-sanity-XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/edgefleet/k3s
mkdir -p "$dest"
(
    cd "$repo"
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' file; do
            # skip files deleted in the working tree but still in the index
            if [ -e "$file" ] || [ -L "$file" ]; then printf '%s\0' "$file"; fi
        done |
        tar --null -T - -cf -
) | tar -C "$dest" -xf -

cd "$dest"
python_dir=$(dirname "$real_python")
export PATH="$venv/bin:$python_dir:$PATH"
"$venv/bin/ansible-test" sanity --local --requirements --python 3.11 --color no "$@"
