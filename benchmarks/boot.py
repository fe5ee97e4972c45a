"""Boot benchmark: power-on to login of diskless QEMU guests, seed recipe vs the collection's default path.

In one run, on a boot server configured by playbooks/boot.yml (see lab/services.py):
  1. rootfs build time: a first build into an empty store, then the same recipe again (must be a no-op);
  2. power-on to `login:`, RUNS times each, the two paths alternating so that both see the same load:
     - default path (bench-node1): iPXE (the NIC's ROM) -> per-MAC iPXE script, kernel and initrd over
       HTTP, the collection's initramfs (MODULES=list: NIC drivers, overlay, NFS client; it waits for
       the link's carrier before DHCP);
     - seed recipe (bench-node2, the Arch guide's way on the same image): pxelinux.0 over TFTP, its
       per-MAC menu, kernel and initrd over TFTP, a generic initramfs (MODULES=most, and without the
       wait for the carrier, which the guide does not have; overlay and per-host /etc as the guide has);
  3. four guests powered on at once (default path): time until all four show `login:`.
The seed host is set up like the seed guide does it: its DHCP reservation carries the tag `seed`, which
gets pxelinux.0 (dnsmasq_extra_options), and its pxelinux menu points to a generic initramfs built
with the image's own mkinitramfs. Prints figures (and one JSON line); asserts nothing. TCG emulation is
CPU-bound: figures follow the machine's load.

Usage: python benchmarks/boot.py [--runs 3] [--skip-build]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.console import ConsoleTimeoutError
from lab.host import podman
from lab.services import ClientSpec, Lab, LabSpec

BOOT_SUBNET = "10.98.67.0/24"
CLIENTS = tuple(ClientSpec(f"bench-node{i}", f"52:54:00:97:65:{10 + i:02x}", 10 + i) for i in range(1, 6))
DEFAULT_HOST, SEED_HOST = CLIENTS[0], CLIENTS[1]
FOUR = (CLIENTS[0], *CLIENTS[2:5])


def seed_setup() -> dict[str, Any]:
    """Extra variables: the seed host's reservation tagged `seed`, which dnsmasq answers with pxelinux.0."""
    network = ipaddress.ip_network(BOOT_SUBNET)
    reservations = [{"mac": c.mac, "hostname": c.name, "ip": str(network[c.octet]), "tags": ["seed" if c == SEED_HOST else "diskless"]} for c in CLIENTS]
    return {"dnsmasq_reservations": reservations, "dnsmasq_extra_options": ["dhcp-boot=tag:seed,pxelinux.0"]}


GENERIC_INITRD = r"""
set -e
root=/srv/diskless/images/debian-bookworm/current/root
version=$(basename "$(readlink -f /srv/diskless/images/debian-bookworm/current)")
kernel=$(basename "$(readlink -f "$root/vmlinuz")"); kernel=${kernel#vmlinuz-}
work=$(mktemp -d)
cp -a "$root/etc/initramfs-tools" "$work/conf"
sed -i 's/^MODULES=.*/MODULES=most/' "$work/conf/conf.d/diskless"
# the seed guide does not wait for the link before DHCP: without the collection's init-premount script
rm -f "$work/conf/scripts/init-premount/diskless-link"
mkdir -p "$root/run/bench-conf" && mount --bind "$work/conf" "$root/run/bench-conf"
chroot "$root" mkinitramfs -d /run/bench-conf -o /run/bench-conf/initrd-generic.img "$kernel"
install -m 0644 "$work/conf/initrd-generic.img" "/srv/diskless/boot/images/debian-bookworm/$version/initrd-generic.img"
umount "$root/run/bench-conf" && rmdir "$root/run/bench-conf" && rm -rf "$work"
sed -i "s#INITRD images/debian-bookworm/$version/initrd.img#INITRD images/debian-bookworm/$version/initrd-generic.img#" \
  /srv/diskless/boot/pxelinux.cfg/01-{mac}
grep -q initrd-generic.img /srv/diskless/boot/pxelinux.cfg/01-{mac}
stat -c '%s' "/srv/diskless/boot/images/debian-bookworm/$version/initrd-generic.img" "/srv/diskless/boot/images/debian-bookworm/$version/initrd.img"
"""


def build_generic_initrd(lab: Lab) -> tuple[int, int]:
    """The seed host's generic initramfs (MODULES=most), built by the image's mkinitramfs; returns (generic, default) sizes."""
    assert lab.state.container is not None
    script = GENERIC_INITRD.replace("{mac}", SEED_HOST.mac.replace(":", "-"))
    sizes = podman("exec", lab.state.container, "bash", "-c", script, timeout=600).stdout.split()
    return int(sizes[0]), int(sizes[1])


def boot_once(lab: Lab, name: str) -> float:
    guest = lab.power_on(name)
    try:
        return guest.wait_for_login(name)
    finally:
        lab.power_off(name)


def alternating_boots(lab: Lab, runs: int) -> tuple[list[float], list[float]]:
    default, seed = [], []
    for run in range(runs):
        default.append(boot_once(lab, DEFAULT_HOST.name))
        seed.append(boot_once(lab, SEED_HOST.name))
        print(f"  run {run + 1}/{runs}: default {default[-1]:.1f} s, seed recipe {seed[-1]:.1f} s to login", flush=True)
    return default, seed


def boot_all_at_once(lab: Lab) -> tuple[float | None, list[float | None]]:
    """Seconds until all four are at login (None: not all within the login timeout) and each one's time."""
    started = time.monotonic()
    guests = {c.name: lab.power_on(c.name) for c in FOUR}
    each: list[float | None] = []
    try:
        for name, guest in guests.items():
            try:
                each.append(guest.wait_for_login(name))
            except ConsoleTimeoutError:
                print(f"  {name}: no login prompt within the timeout (see {guest.directory / name / 'console.log'})", flush=True)
                each.append(None)
        return (None if None in each else time.monotonic() - started), each
    finally:
        for name in guests:
            lab.power_off(name)


def rootfs_build_times(lab: Lab) -> dict[str, Any]:
    """The rootfs role alone into an empty store inside the container: first build, then the same recipe."""
    playbook = lab.spec.state_dir / "rootfs-bench.yml"
    playbook.write_text(
        "- hosts: boot_servers\n  gather_facts: false\n  roles:\n"
        "    - role: diskless.datacenter.rootfs\n      rootfs_store: /srv/bench-images\n      rootfs_keep_versions: 0\n"
    )
    spec_playbook = lab.spec.playbook
    lab.spec.playbook = playbook
    try:
        first = lab.configure()
        log_size = (lab.spec.state_dir / "ansible.log").stat().st_size
        again = lab.configure()
        recap = (lab.spec.state_dir / "ansible.log").read_text()[log_size:]
    finally:
        lab.spec.playbook = spec_playbook
        assert lab.state.container is not None
        podman("exec", lab.state.container, "rm", "-rf", "/srv/bench-images", check=False)
    changed = re.search(r"changed=(\d+)", recap)
    return {"first_build_s": round(first, 1), "unchanged_rebuild_s": round(again, 1), "unchanged_rebuild_changed": int(changed.group(1)) if changed else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="boots per path (median reported)")
    parser.add_argument("--skip-build", action="store_true", help="do not measure the rootfs build")
    args = parser.parse_args()
    spec = LabSpec(name="dc-bench", boot_subnet=BOOT_SUBNET, mgmt_subnet="10.98.66.0/24", clients=CLIENTS)
    results: dict[str, Any] = {}
    lab = Lab(spec)
    try:
        lab.up()
        print(f"boot server configured in {lab.configure(seed_setup()):.0f} s", flush=True)
        generic, default_initrd = build_generic_initrd(lab)
        results.update(initrd_generic_bytes=generic, initrd_default_bytes=default_initrd)
        print(f"initramfs: {default_initrd / 1e6:.1f} MB (default path), generic {generic / 1e6:.1f} MB (seed recipe)", flush=True)
        if not args.skip_build:
            results["rootfs"] = rootfs_build_times(lab)
            print(f"rootfs: first build {results['rootfs']['first_build_s']} s, unchanged rebuild {results['rootfs']['unchanged_rebuild_s']} s "
                  f"(changed={results['rootfs']['unchanged_rebuild_changed']})", flush=True)  # fmt: skip
        default, seed = alternating_boots(lab, args.runs)
        together, each = boot_all_at_once(lab)
        results.update(
            default_median_s=round(statistics.median(default), 1),
            seed_median_s=round(statistics.median(seed), 1),
            ratio_default_over_seed=round(statistics.median(default) / statistics.median(seed), 2),
            default_runs_s=[round(t, 1) for t in default],
            seed_runs_s=[round(t, 1) for t in seed],
            four_at_once_all_at_login_s=None if together is None else round(together, 1),
            four_at_once_each_s=[None if t is None else round(t, 1) for t in each],
        )
    finally:
        lab.down()
    print()
    print(f"power-on to login, median of {args.runs}: default {results['default_median_s']} s, seed recipe {results['seed_median_s']} s, "
          f"ratio {results['ratio_default_over_seed']} (target <= 0.7)")  # fmt: skip
    print(f"4 guests at once: all at login after {results['four_at_once_all_at_login_s']} s (each: {results['four_at_once_each_s']})")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
