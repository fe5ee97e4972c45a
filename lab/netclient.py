"""A real DHCP/TFTP client in a throw-away network namespace, plugged into a local Linux bridge.

Used by the dnsmasq Molecule scenario and by `make lab` to show that a client with a reserved MAC
gets its address, host name and boot file from the boot server. Everything it creates (namespace,
veth pair, dhclient) is removed on exit, also on failure.

CLI: python3 -m lab.netclient --bridge BR --mac MAC [--expect-ip IP] [--ping IP] [--tftp SERVER:FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

LEASE_FIELDS = {
    "fixed-address": re.compile(r"^\s*fixed-address\s+([\d.]+);", re.M),
    "filename": re.compile(r'^\s*filename\s+"([^"]*)";', re.M),
    "host-name": re.compile(r'^\s*option host-name\s+"([^"]*)";', re.M),
    "domain-name": re.compile(r'^\s*option domain-name\s+"([^"]*)";', re.M),
    "subnet-mask": re.compile(r"^\s*option subnet-mask\s+([\d.]+);", re.M),
    "routers": re.compile(r"^\s*option routers\s+([\d.]+)", re.M),
    "server": re.compile(r"^\s*option dhcp-server-identifier\s+([\d.]+);", re.M),
    "next-server": re.compile(r"^\s*next-server\s+([\d.]+);", re.M),
    # iPXE's encapsulated options (175), as dhclient prints an unknown string option: hex bytes, e.g. "b0:1:1"
    "ipxe-encap": re.compile(r"^\s*option ipxe-encap\s+([^;]+);", re.M),
}
DHCLIENT_CONF = """timeout {timeout};
retry 1;
option ipxe-encap code 175 = string;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name, ipxe-encap;
"""


def run(cmd: list[str], *, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check)


def podman_bridge(network: str) -> str:
    """The Linux bridge behind a podman network (netavark)."""
    out = run(["podman", "network", "inspect", network]).stdout
    return str(json.loads(out)[0]["network_interface"])


def parse_lease(text: str) -> dict[str, str]:
    """The last lease in a dhclient lease file, as a flat dict of the fields we care about."""
    leases = text.split("lease {")
    last = leases[-1] if len(leases) > 1 else ""
    found = {}
    for name, pattern in LEASE_FIELDS.items():
        match = pattern.search(last)
        if match:
            found[name] = match.group(1)
    return found


@dataclass
class NetnsClient:
    """A namespace with one interface (eth0, given MAC) whose peer is enslaved to `bridge`."""

    bridge: str
    mac: str
    name: str = field(default_factory=lambda: f"dcnc-{uuid.uuid4().hex[:8]}")
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dcnc-")))

    @property
    def host_end(self) -> str:
        return f"{self.name[:11]}h"

    def __enter__(self) -> NetnsClient:
        try:
            run(["ip", "netns", "add", self.name])
            run(["ip", "link", "add", self.host_end, "type", "veth", "peer", "name", "eth0", "netns", self.name])
            run(["ip", "-n", self.name, "link", "set", "eth0", "address", self.mac])
            run(["ip", "-n", self.name, "link", "set", "lo", "up"])
            run(["ip", "-n", self.name, "link", "set", "eth0", "up"])
            run(["ip", "link", "set", self.host_end, "master", self.bridge])
            run(["ip", "link", "set", self.host_end, "up"])
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        pidfile = self.workdir / "dhclient.pid"
        if pidfile.exists():
            run(["kill", pidfile.read_text().strip()], check=False)
        run(["ip", "link", "del", self.host_end], check=False)
        run(["ip", "netns", "del", self.name], check=False)
        for path in self.workdir.glob("*"):
            path.unlink()
        self.workdir.rmdir()

    def netns(self, *cmd: str, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(["ip", "netns", "exec", self.name, *cmd], timeout=timeout, check=check)

    def ipv6_autoconfigured(self, prefix: str, timeout: float = 15) -> list[str]:
        """Wait for the kernel to form an address in `prefix` from a router advertisement (SLAAC); the global addresses then."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.netns("ip", "-6", "-o", "address", "show", "dev", "eth0", "scope", "global").stdout
            addresses = [line.split()[3] for line in out.splitlines()]
            if any(address.startswith(prefix) for address in addresses) or time.monotonic() > deadline:
                return addresses
            time.sleep(0.5)

    def dhcp(self, timeout: int = 20, user_class: str | None = None) -> dict[str, str]:
        """Ask for a lease with ISC dhclient (one try), optionally sending a user class (e.g. iPXE); return the lease fields ({} when none came)."""
        conf = self.workdir / "dhclient.conf"
        user_class_line = f'send user-class "{user_class}";\n' if user_class else ""
        conf.write_text(DHCLIENT_CONF.format(timeout=timeout) + user_class_line)
        lease_file = self.workdir / "dhclient.leases"
        lease_file.touch()
        self.netns(
            "dhclient", "-1", "-v", "-cf", str(conf), "-lf", str(lease_file), "-pf", str(self.workdir / "dhclient.pid"),
            "-sf", "/bin/true", "eth0",
            timeout=timeout + 15, check=False,
        )  # fmt: skip
        return parse_lease(lease_file.read_text())

    def hold(self, lease: dict[str, str]) -> None:
        """Configure the leased address on eth0, as dhclient-script would."""
        prefix = sum(bin(int(octet)).count("1") for octet in lease.get("subnet-mask", "255.255.255.0").split("."))
        self.netns("ip", "addr", "replace", f"{lease['fixed-address']}/{prefix}", "dev", "eth0")

    def ping(self, address: str) -> bool:
        return self.netns("ping", "-c", "1", "-W", "2", address, check=False).returncode == 0

    def tftp_get(self, server: str, remote: str) -> bytes | None:
        local = self.workdir / "tftp-download"
        result = self.netns("tftp", "-m", "binary", server, "-c", "get", remote, str(local), timeout=30, check=False)
        if result.returncode != 0 or not local.exists() or "Error" in result.stdout + result.stderr:
            return None
        return local.read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bridge = parser.add_mutually_exclusive_group(required=True)
    bridge.add_argument("--bridge", help="Linux bridge to plug the client into")
    bridge.add_argument("--podman-network", help="podman network whose bridge to use")
    parser.add_argument("--mac", required=True)
    parser.add_argument("--expect-ip", help="fail unless the lease gives this address")
    parser.add_argument("--ping", help="after taking the lease, ping this address from the client")
    parser.add_argument("--tftp", help="after taking the lease, fetch SERVER:FILE over TFTP")
    args = parser.parse_args(argv)
    bridge_name = args.bridge or podman_bridge(args.podman_network)
    with NetnsClient(bridge=bridge_name, mac=args.mac) as client:
        lease = client.dhcp()
        print(f"client {args.mac}: lease {json.dumps(lease, sort_keys=True)}")
        if not lease.get("fixed-address"):
            print("no lease received", file=sys.stderr)
            return 1
        if args.expect_ip and lease["fixed-address"] != args.expect_ip:
            print(f"expected {args.expect_ip}, got {lease['fixed-address']}", file=sys.stderr)
            return 1
        client.hold(lease)
        print(f"client {args.mac}: holds {lease['fixed-address']} on eth0 in namespace {client.name}")
        if args.ping:
            reachable = client.ping(args.ping)
            print(f"client {args.mac}: ping {args.ping}: {'ok' if reachable else 'FAILED'}")
            if not reachable:
                return 1
        if args.tftp:
            server, remote = args.tftp.split(":", 1)
            data = client.tftp_get(server, remote)
            outcome = f"{len(data)} bytes" if data is not None else "FAILED"
            print(f"client {args.mac}: tftp {args.tftp}: {outcome}")
            if data is None:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
