#!/usr/bin/env bash
# Builds routeapi's container image with podman, offline: a static binary
# built by the host's Go, Debian's CA bundle and a passwd/group for the
# non-root user, staged in bin/image and copied into an image FROM scratch
# (Containerfile). Called by `make image`; IMAGE names the image.
#
# PODMAN (default podman) and PODMAN_FLAGS (default: this project's machines'
# runtime flags) can be overridden; CONTAINERS_CONF defaults to
# scripts/podman/containers.conf.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-localhost/routeapi:dev}"
GO="${GO:-go}"
PODMAN="${PODMAN:-podman}"
read -r -a podman_flags <<<"${PODMAN_FLAGS:---runtime /usr/sbin/runc --cgroup-manager=cgroupfs}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/scripts/podman/containers.conf}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

command -v "$PODMAN" >/dev/null || { echo "make image needs podman (apt-get install podman runc; .ci/run does it)" >&2; exit 1; }
[ -s "$CA_BUNDLE" ] || { echo "make image needs Debian's CA bundle at $CA_BUNDLE (apt-get install ca-certificates)" >&2; exit 1; }

stage=bin/image
rm -rf "$stage"
mkdir -p "$stage/rootfs/usr/local/bin" "$stage/rootfs/etc/ssl/certs" "$stage/rootfs/etc/routeapi" "$stage/spool"

echo "Building a static routeapi (CGO_ENABLED=0, linux/$("$GO" env GOARCH))"
CGO_ENABLED=0 GOOS=linux "$GO" build -buildvcs=auto -trimpath -ldflags='-s -w' \
  -o "$stage/rootfs/usr/local/bin/routeapi" ./cmd/routeapi
cp "$CA_BUNDLE" "$stage/rootfs/etc/ssl/certs/ca-certificates.crt"
cp settings.yaml "$stage/rootfs/etc/routeapi/settings.yaml"
cat >"$stage/rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
routeapi:x:65532:65532:routeapi:/var/lib/routeapi:/sbin/nologin
PASSWD
cat >"$stage/rootfs/etc/group" <<'GROUP'
root:x:0:
routeapi:x:65532:
GROUP
chmod 0755 "$stage/rootfs/usr/local/bin/routeapi"
chmod 0644 "$stage/rootfs/etc/passwd" "$stage/rootfs/etc/group" "$stage/rootfs/etc/ssl/certs/ca-certificates.crt" "$stage/rootfs/etc/routeapi/settings.yaml"
chmod 0700 "$stage/spool"

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
echo "Building $IMAGE with podman (FROM scratch; nothing is pulled)"
"$PODMAN" "${podman_flags[@]}" build --format docker --pull=never \
  --build-arg REVISION="$revision" --build-arg VERSION="$version" \
  -f Containerfile -t "$IMAGE" "$stage"
"$PODMAN" "${podman_flags[@]}" image inspect --format '{{.Id}} {{.Size}} bytes' "$IMAGE"
