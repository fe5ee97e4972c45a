#!/usr/bin/env bash
# Build the Molecule base image with mmdebstrap + podman import, only when its recipe changed.
# The image is tagged with the recipe hash; `latest` points at the current one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
recipe="$here/images/molecule-base.env"
# shellcheck source=/dev/null
source "$recipe"
hash=$( (cat "$recipe" "$0") | sha256sum | cut -c1-12)
tag="$IMAGE_NAME:$hash"

if podman image exists "$tag"; then
  podman tag "$tag" "$IMAGE_NAME:latest"
  exit 0
fi

echo "building $tag (recipe changed or image missing)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mmdebstrap --quiet --variant="$VARIANT" --include="$INCLUDE" \
  --customize-hook='chroot "$1" systemctl mask systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket getty.target console-getty.service >/dev/null 2>&1' \
  --customize-hook='rm -f "$1"/etc/machine-id && touch "$1"/etc/machine-id' \
  "$SUITE" "$work/rootfs.tar" "$MIRROR"
podman import --quiet \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=podman' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  "$work/rootfs.tar" "$tag" >/dev/null
podman tag "$tag" "$IMAGE_NAME:latest"
echo "built $tag"
