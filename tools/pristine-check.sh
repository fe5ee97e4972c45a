#!/usr/bin/env bash
# `make pristine`: prove the install path on a machine that has nothing of ours.
# Builds a pristine Debian 12 root (mmdebstrap minbase from Debian's archive, nothing added), then in a
# privileged podman container started from it:
#   1. with no network, tools/setup.sh must fail with one line naming a package it could not install;
#   2. with the network, tools/setup.sh must install everything, and then podman must create a bridge
#      network and start a container on it, and the venv must import the test tool chain.
# What is cached (under $DISKLESS_LAB_CACHE, default /var/cache/diskless-lab): the root image (by
# recipe hash) and the downloaded .deb files and pip wheels. Nothing installed in the root is kept.
# The root gets one thing from this machine: its TLS trust (CA bundle, for pip behind this network's
# TLS-inspecting egress) -- a property of the network, not a package.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export CONTAINERS_CONF="$repo/tools/podman/containers.conf"

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
VARIANT=minbase
cache=${DISKLESS_LAB_CACHE:-/var/cache/diskless-lab}/pristine
hash=$( (echo "$SUITE $MIRROR $VARIANT"; sed -n '/^# recipe-start/,/^# recipe-end/p' "$0") | sha256sum | cut -c1-12)
image=localhost/diskless-pristine:$hash

log() { printf 'pristine: %s\n' "$*"; }
fail() { printf 'pristine: FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
took() { echo "$(($(now) - $1)) s"; }

work=$(mktemp -d /var/tmp/diskless-pristine.XXXXXX)
cleanup() {
  podman rm -f -i diskless-pristine-offline diskless-pristine-online >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# recipe-start
build_root_image() {
  podman image exists "$image" && return 0
  log "building the pristine root $image (mmdebstrap $VARIANT $SUITE)"
  mmdebstrap --quiet --variant="$VARIANT" "$SUITE" "$work/root.tar" "$MIRROR"
  podman import --quiet "$work/root.tar" "$image" >/dev/null
  rm -f "$work/root.tar"
}
# recipe-end

copy_project() {
  # The project's own files as a clone would have them (tracked and new, never ignored ones).
  mkdir -p "$work/src"
  git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat --printf='%n\0' 2>/dev/null \
    | tar --null -T - -cf - | tar -C "$work/src" -xf -
}

run_in_root() {
  local name=$1 network=$2 script=$3
  mkdir -p "$cache/apt-archives/partial" "$cache/pip" "$work/containers-$name"
  podman run --name "$name" --rm --privileged --network "$network" \
    --volume "$work/src:/src" \
    --volume "$cache/apt-archives:/var/cache/apt/archives" \
    --volume "$cache/pip:/root/.cache/pip" \
    --volume "$work/containers-$name:/var/lib/containers" \
    --volume /etc/ssl/certs/ca-certificates.crt:/etc/diskless-machine-ca.crt:ro \
    --env PIP_CERT=/etc/diskless-machine-ca.crt \
    --env CI="${CI:-}" \
    "$image" /bin/bash -c "$script"
}

offline_setup_names_the_package() {
  local output status=0
  output=$(run_in_root diskless-pristine-offline none 'cd /src && tools/setup.sh' 2>&1) || status=$?
  [ "$status" -ne 0 ] || fail "setup.sh succeeded with no network"
  local last
  last=$(printf '%s\n' "$output" | tail -n1)
  printf '%s\n' "$output" | sed 's/^/  offline | /'
  [[ "$last" =~ ^setup:\ ERROR:\ could\ not\ install\ the\ Debian\ package\ \'[a-z0-9.+-]+\' ]] \
    || fail "with no network, setup.sh's last line does not name the package it could not install: $last"
  [ "$(printf '%s\n' "$output" | grep -c 'ERROR')" -eq 1 ] || fail "with no network, setup.sh printed more than one error line"
}

online_setup_then_prove() {
  run_in_root diskless-pristine-online podman '
    set -euo pipefail
    cd /src
    started=$(date +%s)
    tools/setup.sh
    echo "pristine: tools/setup.sh in the pristine root took $(($(date +%s) - started)) s"
    export CONTAINERS_CONF=/src/tools/podman/containers.conf
    podman network create --subnet 10.199.77.0/24 pristine-check >/dev/null
    podman run --rm --network pristine-check localhost/diskless-base:latest \
      /bin/sh -c "ip -4 -o addr show eth0 | grep -q \"inet 10.199.77.\"" \
      || { echo "pristine: a container on a podman bridge network has no address on it" >&2; exit 1; }
    echo "pristine: podman created a bridge network and a container on it got its address"
    if podman info 2>&1 | grep -q "CNI config"; then echo "pristine: podman warns about a CNI config" >&2; exit 1; fi
    .venv/bin/python -c "import ansible, ansible_collections.community.crypto, librouteros, netaddr, molecule, testinfra; print(\"pristine: the venv imports ansible, librouteros, netaddr, molecule, testinfra\")"
    .venv/bin/ansible-playbook --version | head -n1
  '
}

started=$(now)
step=$(now); build_root_image; log "pristine root image ready ($(took "$step"))"
step=$(now); copy_project
offline_setup_names_the_package; log "no network: setup.sh fails naming the package ($(took "$step"))"
step=$(now); online_setup_then_prove; log "network: setup.sh installed everything, podman and the venv work ($(took "$step"))"
log "passed in $(took "$started")"
