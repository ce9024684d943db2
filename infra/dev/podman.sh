#!/usr/bin/env bash
# Makes sure podman and runc can build and run the function images here: installs them from
# Debian when missing (as root), and writes .tools/containers.conf with the two settings these
# machines need (runc, since crun fails on their cgroups; no default ulimits, which are
# refused). Point CONTAINERS_CONF at that file when calling podman.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "ERROR: podman and runc are needed for the container images (apt-get install podman runc, as root)" >&2
    exit 1
  fi
  echo "==> installing podman and runc (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc >/dev/null; }
fi
mkdir -p "$root/.tools"
cat > "$root/.tools/containers.conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
