#!/usr/bin/env bash
# Installs moto's server (PyPI moto[server]: AWS Secrets Manager, SSM and IAM as a local
# HTTP server) into .tools/moto when missing, for the `aws` feature's test (make test-aws).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${MOTO_VERSION:-5.2.5}"
venv="$root/.tools/moto"
bin="$venv/bin/moto_server"
if [ -x "$bin" ] && "$venv/bin/pip" show moto 2>/dev/null | grep -q "^Version: $version$"; then
  exit 0
fi
echo "==> installing moto[server] $version into .tools/moto (PyPI)"
python3 -m venv "$venv" || { echo "ERROR: python3 -m venv failed; install python3-venv" >&2; exit 1; }
"$venv/bin/pip" install --quiet "moto[server]==$version" || {
  echo "ERROR: could not install moto[server]==$version from PyPI" >&2; exit 1; }
echo "moto_server: $bin"
