# Sourced by the SDKs' test scripts: exports OVSR_BIN, the `ovsr` binary their tests
# start. Without it set, the workspace's debug build, built with cargo when missing.
sdk_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "${OVSR_BIN:-}" ]; then
    export OVSR_BIN="$sdk_dir/../target/debug/ovsr"
    if [ ! -x "$OVSR_BIN" ]; then
        command -v cargo >/dev/null || {
            echo "no ovsr binary at $OVSR_BIN and no cargo to build it: set OVSR_BIN" >&2
            exit 1
        }
        echo "building $OVSR_BIN"
        (cd "$sdk_dir/.." && cargo build --locked -p ovsr-server --bin ovsr)
    fi
fi
[ -x "$OVSR_BIN" ] || { echo "OVSR_BIN=$OVSR_BIN is not an executable" >&2; exit 1; }
