#!/usr/bin/env bash
# Tests the TypeScript SDK: installs the locked dependencies, checks the
# generated code is up to date with the protos and the sources are
# formatted, builds with strict tsc, and runs node's test runner against a
# real `ovsr serve`. Extra arguments go to `node --test`.
#
# The server binary is $OVSR_BIN, by default ../../target/debug/ovsr, which
# is built with cargo when it is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

npm ci --no-audit --no-fund

echo "checking the generated code is up to date"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
node_modules/.bin/buf generate --output "$scratch"
if ! diff -r src/gen "$scratch/src/gen"; then
    echo "src/gen is out of date with ../../proto: run npm run gen" >&2
    exit 1
fi

echo "checking the formatting"
node_modules/.bin/prettier --check .

echo "building"
rm -rf dist build
npm run --silent build
npm run --silent build:test

# shellcheck source=../ovsr-bin.sh
source "$here/../ovsr-bin.sh"

node --test "$@" build/test/*.test.js
