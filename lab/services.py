"""The lab's services as components: a boot network, a boot-server container and diskless QEMU guests on it.

`Lab` builds one self-contained lab on this machine (what tests/e2e and benchmarks/boot.py use) and removes it:
  - a podman network (its Linux bridge carries the boot VLAN; the host holds the gateway address);
  - the boot-server container (systemd as PID 1, privileged: mmdebstrap chroots and NFS-Ganesha's
    file handles need it), with the image cache and the hosts' /etc trees bind-mounted from the host;
  - one tap device per guest on that bridge, and the QEMU process (TCG) behind it (lab.guests).
Everything is recorded in its state directory before it is created (lab.state). The boot server is configured
by the collection's playbook (playbooks/boot.yml) from a generated inventory, exactly as a real one would be.
The shared root image is cached across runs in $DISKLESS_LAB_CACHE (default /var/cache/diskless-lab), keyed by
the recipe hash of the rootfs role.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.ansible import VENV_BIN, project_env
from lab.guests import GUEST_KERNEL_PARAMS, ROOT_PASSWORD, BootServer, Guest, password_hash
from lab.host import BASE_IMAGE, CACHE, REPO, STATE_ROOT, netboot_hosts_root, podman, podman_env
from lab.network import bridge_of
from lab.state import State, down

__all__ = ["ClientSpec", "Lab", "LabSpec", "running_lab"]


# ---- the self-contained lab -------------------------------------------------------------------
@dataclass(frozen=True)
class ClientSpec:
    name: str
    mac: str
    octet: int
    kernel_params: str = ""


@dataclass
class LabSpec:
    name: str = "dc-e2e"
    boot_subnet: str = "10.98.65.0/24"
    mgmt_subnet: str = "10.98.64.0/24"
    server_octet: int = 2
    clients: tuple[ClientSpec, ...] = (
        ClientSpec("e2e-node1", "52:54:00:98:65:11", 11, "e2e.host=e2e-node1 intel_iommu=on iommu=pt"),
        ClientSpec("e2e-node2", "52:54:00:98:65:12", 12, "e2e.host=e2e-node2 diskless.tmpfs=/var/lib/rancher:size=64m,mode=0700"),
    )
    # DISKLESS_LAB_PLAYBOOK: another playbook with the same interface (e.g. one under development)
    playbook: Path = Path(os.environ.get("DISKLESS_LAB_PLAYBOOK", REPO / "playbooks" / "boot.yml"))
    # group_vars of the boot server; router advertisements end iPXE's 15 s wait for an IPv6 router
    server_vars: dict[str, Any] = field(default_factory=lambda: {"netboot_kernel_params": GUEST_KERNEL_PARAMS, "dnsmasq_ra_interfaces": ["eth0"]})
    memory_mb: int = 1024
    cpus: int = 2

    @property
    def state_dir(self) -> Path:
        return STATE_ROOT / self.name

    @property
    def hosts_root(self) -> str:
        """netboot_hosts_root of the boot server: each host's plaintext /etc and its etc-key (bind-mounted from the state directory)."""
        return netboot_hosts_root(self.server_vars)

    def address(self, octet: int) -> str:
        return str(ipaddress.ip_network(self.boot_subnet)[octet])

    @property
    def server_ip(self) -> str:
        return self.address(self.server_octet)

    @property
    def server_ip6(self) -> str:
        """The boot server's unique-local IPv6 address, fd00:B:C::2/64 for a boot subnet 10.B.C.0/24."""
        _a, b, c, _d = ipaddress.ip_network(self.boot_subnet).network_address.packed
        return f"fd00:{b}:{c}::{self.server_octet}/64"


class Lab:
    """Network, boot-server container, inventory, playbook run and guests of one lab."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        self.state = State(directory=spec.state_dir)
        self.guests: dict[str, Guest] = {}
        self.bridge = ""
        self._log_offset = 0
        self._password_hash = password_hash(ROOT_PASSWORD)  # once: a new salt on every run would be a change

    # ---- lifecycle ---------------------------------------------------------------------------
    def up(self) -> None:
        """Network and boot-server container, ready for the playbook."""
        down(self.spec.state_dir)  # leftovers of an interrupted run under the same name
        shutil.rmtree(self.spec.state_dir, ignore_errors=True)  # and its logs
        atexit.register(self.down)
        images = CACHE / "images"
        hosts = self.spec.state_dir / "hosts"
        images.mkdir(parents=True, exist_ok=True)
        hosts.mkdir(parents=True, exist_ok=True)
        network = self.state.network = f"{self.spec.name}-boot"
        self.state.save()
        gateway = self.spec.address(1)
        podman("network", "create", "--subnet", self.spec.boot_subnet, "--gateway", gateway, "--disable-dns", network)
        container = self.state.container = f"{self.spec.name}-server"
        self.state.save()
        podman(
            "run", "--detach", "--name", container, "--hostname", container, "--privileged", "--systemd", "always",
            "--network", f"{network}:ip={self.spec.server_ip}",
            "--volume", f"{images}:/srv/diskless/images", "--volume", f"{hosts}:{self.spec.hosts_root}",
            BASE_IMAGE, "/sbin/init",
        )  # fmt: skip
        self._wait_for_systemd(container)
        # set inside the container: an IPv6 podman network would switch on IPv6 forwarding on this machine
        podman("exec", container, "ip", "-6", "address", "replace", self.spec.server_ip6, "dev", "eth0", "nodad")
        self.bridge = bridge_of(network)

    def _wait_for_systemd(self, container: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = podman("exec", container, "systemctl", "is-system-running", check=False).stdout.strip()
            if status in ("running", "degraded"):
                return
            time.sleep(1)
        raise RuntimeError(f"{container}: systemd did not finish starting in {timeout:.0f} s")

    def down(self) -> None:
        for guest in list(self.guests.values()):
            guest.power_off(self.state)
        self.guests.clear()
        down(self.spec.state_dir)

    # ---- configuration -----------------------------------------------------------------------
    def inventory(self) -> Path:
        """Write the lab's inventory (the collection's model: dc_* variables) and return its directory."""
        directory = self.spec.state_dir / "inventory"
        (directory / "group_vars").mkdir(parents=True, exist_ok=True)
        hosts: dict[str, Any] = {
            "all": {
                "vars": {
                    "dc_domain": "e2e.test",
                    "dc_vlans": [
                        {"id": 64, "name": "mgmt", "subnet": self.spec.mgmt_subnet},
                        {"id": 65, "name": "pxe", "subnet": self.spec.boot_subnet},
                    ],
                    "dc_vlan_roles": {"mgmt": 64, "boot": 65},
                },
                "children": {
                    "boot_servers": {
                        "hosts": {
                            self.state.container: {
                                "ansible_connection": "containers.podman.podman",
                                "ansible_python_interpreter": "/usr/bin/python3",
                                "dc_host_octet": self.spec.server_octet,
                            }
                        }
                    },
                    "diskless_hosts": {
                        "hosts": {c.name: {"dc_macs": [c.mac], "dc_host_octet": c.octet, "dc_kernel_params": c.kernel_params} for c in self.spec.clients}
                    },
                },
            }
        }
        (directory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
        server_vars = {"nfs_server_implementation": "ganesha", "netboot_root_password_hash": self._password_hash, **self.spec.server_vars}
        (directory / "group_vars" / "boot_servers.yml").write_text(yaml.safe_dump(server_vars, sort_keys=False))
        return directory

    def configure(self, extra_vars: dict[str, Any] | None = None, *, check: bool = False, timeout: float = 1800) -> float:
        """Run the boot playbook against the lab; return its wall time. Fails with the log's tail."""
        inventory = self.inventory()
        log = self.spec.state_dir / "ansible.log"
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(self.spec.playbook)]
        if check:
            cmd += ["--check", "--diff"]
        if extra_vars:
            cmd += ["--extra-vars", json.dumps(extra_vars)]
        env = project_env(CONTAINERS_CONF=podman_env()["CONTAINERS_CONF"], ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks")
        started = time.monotonic()
        self._log_offset = log.stat().st_size if log.exists() else 0
        with log.open("a") as out:
            result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ansible-playbook exited {result.returncode}; log {log}:\n{log.read_text()[-4000:]}")
        return time.monotonic() - started

    def last_recap(self) -> dict[str, int]:
        """The boot server's counters (ok, changed, failed, ...) in the PLAY RECAP of the last playbook run."""
        text = (self.spec.state_dir / "ansible.log").read_text()[self._log_offset :]
        line = next(line for line in text.splitlines() if line.startswith(f"{self.state.container} ") and "changed=" in line)
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}

    # ---- guests ------------------------------------------------------------------------------
    def client(self, name: str) -> ClientSpec:
        return next(c for c in self.spec.clients if c.name == name)

    def power_on(self, name: str) -> Guest:
        client = self.client(name)
        index = self.spec.clients.index(client)
        guest = Guest(
            name=name, mac=client.mac, bridge=self.bridge, tap=f"{self.spec.name[:10]}-t{index}",
            directory=self.spec.state_dir, memory_mb=self.spec.memory_mb, cpus=self.spec.cpus,
            boot_server=BootServer(self.state.container, self.spec.hosts_root) if self.state.container else None,
        )  # fmt: skip
        guest.power_on(self.state)
        self.guests[name] = guest
        return guest

    def power_off(self, name: str) -> None:
        self.guests.pop(name).power_off(self.state)

    def server_exec(self, *cmd: str, check: bool = True) -> str:
        assert self.state.container is not None
        return podman("exec", self.state.container, *cmd, check=check).stdout


@contextlib.contextmanager
def running_lab(spec: LabSpec) -> Iterator[Lab]:
    """A configured lab that is torn down on exit, whatever happens."""
    lab = Lab(spec)
    try:
        lab.up()
        lab.configure()
        yield lab
    finally:
        lab.down()
