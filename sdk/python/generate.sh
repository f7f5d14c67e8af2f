#!/usr/bin/env bash
# Regenerates the protobuf and gRPC modules of the SDK from proto/ovsr/v1.
#
# Usage: generate.sh [OUT_DIR]   (default: src/ovsr/_gen)
#
# Needs grpcio-tools and mypy-protobuf at the versions pinned in the `test`
# extra of pyproject.toml: the output depends on them, and CI compares it
# byte for byte with the committed files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
proto_root="$here/../../proto"
out="${1:-$here/src/ovsr/_gen}"
python="${PYTHON:-python3}"

# protoc writes ovsr/v1/*.py for the `ovsr.v1` package of the protos; the
# modules live at ovsr._gen.v1 here, so generate aside and move them in.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

mypy_grpc_plugin="$(dirname "$(command -v "$python")")/protoc-gen-mypy_grpc"
[ -x "$mypy_grpc_plugin" ] || mypy_grpc_plugin="$(command -v protoc-gen-mypy_grpc)"

# Sorted, relative file names keep the output independent of the checkout.
mapfile -t protos < <(cd "$proto_root" && find ovsr/v1 -name '*.proto' | LC_ALL=C sort)

(
    cd "$proto_root"
    "$python" -m grpc_tools.protoc \
        -I . \
        --plugin=protoc-gen-mypy_grpc="$mypy_grpc_plugin" \
        --python_out="$scratch" \
        --pyi_out="$scratch" \
        --grpc_python_out="$scratch" \
        --mypy_grpc_out=quiet:"$scratch" \
        "${protos[@]}"
)

# Imports between the generated modules name the package they now sit in.
for file in "$scratch"/ovsr/v1/*.py "$scratch"/ovsr/v1/*.pyi; do
    sed -i -e 's/^from ovsr\.v1 import /from ovsr._gen.v1 import /' "$file"
done

rm -rf "$out"
mkdir -p "$out/v1"
cp "$scratch"/ovsr/v1/* "$out/v1/"
printf '"""Modules generated from proto/ovsr/v1; do not edit."""\n' >"$out/__init__.py"
printf '"""Messages and stubs of the ovsr.v1 API; do not edit."""\n' >"$out/v1/__init__.py"
