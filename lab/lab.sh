#!/usr/bin/env bash
# The virtual lab: `lab.sh up` builds the lab infrastructure, runs site.yml against inventories/lab
# exactly as against real hardware, then proves it with a real client; `lab.sh down` removes it all.
set -euo pipefail
cd "$(dirname "$0")/.."

up() {
  ansible-playbook lab/up.yml
  ansible-playbook -i inventories/lab site.yml
  echo
  echo "lab: a diskless host's first step -- lab-node1 (52:54:00:99:65:11) asks for its lease:"
  python -m tests.support.netclient --podman-network dc-lab-boot --mac 52:54:00:99:65:11 \
    --expect-ip 10.99.65.11 --ping 10.99.65.2
  echo
  echo "lab: lab-node1 powers on, boots over the network (iPXE, HTTP, NFS root) and reaches its login prompt:"
  python -m tests.e2e.harness boot --network dc-lab-boot --name lab-node1 --mac 52:54:00:99:65:11 --state lab-state/dc-lab
  echo
  echo "lab: up. Console of lab-node1 (root / diskless-lab): python -m tests.e2e.harness console lab-node1 --state lab-state/dc-lab"
  echo "lab: boot server: podman exec -it dc-lab-boot bash   Stop everything: make lab-down"
}

down() {
  python -m tests.e2e.harness down --state lab-state/dc-lab
  ansible-playbook lab/down.yml
  echo "lab: down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
