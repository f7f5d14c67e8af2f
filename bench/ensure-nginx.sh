#!/usr/bin/env bash
# Installs nginx (Debian's light build and its brotli_static module) for the HTTP
# baseline of the load benchmark, unless an nginx is already there. Without it the
# benchmark runs on and reports the HTTP pairs as not measured.
set -euo pipefail

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "nginx is missing and apt-get is not here: the HTTP pairs will be skipped" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
echo "installing nginx-light and libnginx-mod-http-brotli-static from Debian's packages" >&2
if ! { $sudo apt-get update -q && $sudo apt-get install -y -q nginx-light libnginx-mod-http-brotli-static; }; then
  echo "installing nginx failed: the HTTP pairs will be skipped" >&2
fi
# The package starts a system nginx on port 80; the benchmark runs its own.
$sudo systemctl disable --now nginx >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
