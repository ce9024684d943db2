#!/usr/bin/env bash
# Builds one OCI image per function from already built binaries, offline (no registry: no base
# image is pulled): infra/images/Containerfile (FROM scratch) over a root file system made here —
# the binary, the shared libraries `ldd` names, the CA bundle, an /etc/passwd with the non-root
# user 10001 — labelled with the version and git revision (`make check-deploy` runs hadolint on
# that Containerfile). Usage: infra/images/build.sh [BIN_DIR (target/release)] [TAG (crate version)]
# Prints each image's size and fails when one is over 25 MB (release binaries only).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin_dir="$(cd "${1:-$root/target/release}" && pwd)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
tag="${2:-$version}"
revision="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
functions="fn-ingress fn-updates fn-reply fn-prompt fn-image fn-send fn-admin fn-bridge migrate"
"$root/infra/dev/podman.sh"
export CONTAINERS_CONF="$root/.tools/containers.conf"
limit=$((25 * 1024 * 1024))
failed=0
for fn in $functions; do
  bin="$bin_dir/$fn"
  [ -x "$bin" ] || { echo "ERROR: $bin is missing (cargo build --release --workspace --bins)" >&2; exit 1; }
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/tmp" "$ctx/rootfs/app"
  cp "$bin" "$ctx/rootfs/app/$fn"
  ln -s "$fn" "$ctx/rootfs/app/function"
  # The loader and every library the binary links, at the paths it expects.
  for lib in $(ldd "$bin" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
  echo "companion:x:10001:10001::/tmp:/sbin/nologin" > "$ctx/rootfs/etc/passwd"
  echo "companion:x:10001:" > "$ctx/rootfs/etc/group"
  chmod 1777 "$ctx/rootfs/tmp"
  [ -d "$root/personas" ] && [ "$fn" = fn-updates ] && cp -r "$root/personas" "$ctx/rootfs/app/personas"
  [ "$fn" = fn-image ] && mkdir -p "$ctx/rootfs/app/infra" && cp -r "$root/infra/comfyui" "$ctx/rootfs/app/infra/comfyui"
  podman build -q --format docker -f "$root/infra/images/Containerfile" \
    --build-arg FUNCTION="$fn" --build-arg VERSION="$version" --build-arg REVISION="$revision" \
    -t "companion/$fn:$tag" "$ctx" >/dev/null
  size="$(podman image inspect "companion/$fn:$tag" --format '{{.Size}}')"
  awk -v f="$fn" -v s="$size" -v t="$tag" 'BEGIN { printf "%-12s %6.1f MB  companion/%s:%s\n", f, s / 1048576, f, t }'
  if [ "$size" -gt "$limit" ] && [ "$bin_dir" = "$root/target/release" ]; then
    echo "ERROR: companion/$fn:$tag is over 25 MB" >&2
    failed=1
  fi
  rm -rf "$ctx"
  trap - EXIT
done
exit "$failed"
