#!/usr/bin/env bash
# Tests the Python SDK: installs it with its test extra into .venv, checks the
# generated code is up to date with the protos, type-checks, and runs pytest
# against a real `ovsr serve`. Extra arguments go to pytest.
#
# The server binary is $OVSR_BIN, by default ../../target/debug/ovsr, which
# is built with cargo when it is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
venv="$here/.venv"
python="$venv/bin/python"

if [ ! -x "$python" ]; then
    echo "creating $venv"
    "${PYTHON:-python3}" -m venv "$venv"
fi
"$python" -m pip install --quiet --upgrade pip
"$python" -m pip install --quiet ".[test]"
# Not editable, and rebuilt on every run, so the tests import what a user
# would install from this tree.
"$python" -m pip install --quiet --force-reinstall --no-deps .

echo "checking the generated code is up to date"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
PYTHON="$python" ./generate.sh "$scratch/_gen"
if ! diff -r -x __pycache__ src/ovsr/_gen "$scratch/_gen"; then
    echo "src/ovsr/_gen is out of date with ../../proto: run ./generate.sh" >&2
    exit 1
fi

echo "type-checking"
"$python" -m mypy

# shellcheck source=../ovsr-bin.sh
source "$here/../ovsr-bin.sh"

"$python" -m pytest "$@"
