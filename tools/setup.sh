#!/usr/bin/env bash
# `make setup`: install everything the project needs on a Debian 12 machine, as root.
# Idempotent and quiet when nothing changed; on failure it names what could not be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

# Debian packages: tools/apt-packages.txt lists each one and why it is there.
mapfile -t APT_PACKAGES < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*$//' tools/apt-packages.txt)

log() { printf 'setup: %s\n' "$*"; }
fail() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

missing_apt_packages() {
  local package
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' || echo "$package"
  done
}

install_apt_packages() {
  local missing
  mapfile -t missing < <(missing_apt_packages)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || fail "Debian packages missing (${missing[*]}) and not running as root to install them"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/tmp/diskless-setup-apt.log 2>&1 \
    || fail "could not install the Debian package '${missing[0]}'$([ ${#missing[@]} -gt 1 ] && echo " (and $((${#missing[@]} - 1)) more)"): apt-get update failed, Debian's package archive is unreachable (see /tmp/diskless-setup-apt.log)"
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/diskless-setup-apt.log 2>&1; then
    local package
    for package in "${missing[@]}"; do
      apt-get install -y -q --no-install-recommends "$package" >>/tmp/diskless-setup-apt.log 2>&1 \
        || fail "could not install the Debian package '$package' (see /tmp/diskless-setup-apt.log)"
    done
  fi
}

install_python_venv() {
  local stamp=.venv/.requirements.sha256 wanted
  wanted=$( (cat requirements.txt; python3 --version) | sha256sum | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && return 0
  log "creating .venv with the pinned Python dependencies"
  python3 -m venv .venv || fail "python3 -m venv failed (is python3-venv installed?)"
  local pip_log=/tmp/diskless-setup-pip.log
  if ! { .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -r requirements.txt; } >"$pip_log" 2>&1; then
    local culprit
    culprit=$(grep -Eo "(No matching distribution found for|Could not find a version that satisfies the requirement) [^ ]+" "$pip_log" | head -n1 | awk '{print $NF}')
    fail "could not install the Python package '${culprit:-see log}' from PyPI (see $pip_log)"
  fi
  echo "$wanted" >"$stamp"
}

link_collection() {
  # Ansible finds the collection as ansible_collections/diskless/datacenter under .build/collections.
  mkdir -p .build/collections/ansible_collections/diskless
  ln -sfn ../../../.. .build/collections/ansible_collections/diskless/datacenter
}

build_base_image() {
  CONTAINERS_CONF="$repo/tools/podman/containers.conf" tools/build-base-image.sh
}

install_apt_packages
install_python_venv
link_collection
build_base_image
