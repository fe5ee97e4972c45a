"""Static DHCP leases at scale: routeros_netboot vs community.routeros.api_modify, against the RouterOS simulator.

The reference plan of the diskless datacenter (bridge VLANs 64-72 with their VLAN interfaces, netboot on
VLAN 65 for the three servers, and an empty DHCP server on the reserved VLAN 72, 10.42.72.0/22) is applied
once and saved by the simulator (``--state``). For each lease count (250, 500, 1000), each tool and each
repeat, a fresh simulator starts from that state and the same N static leases are applied twice on VLAN 72 -
a first run that creates them and an unchanged run - measuring the wall time of ``ansible-playbook`` (one
task) and the number of API sentences. Sentences
are counted by a TCP proxy between Ansible and the simulator that parses the API framing: sentences
the client sent (commands, login included) and sentences the router answered (!re, !done, !trap).

Run from the repository root: ``.venv/bin/python benchmarks/routeros_leases.py [--counts 250,500,1000] [--repeats 3]``.
Prints a table; wall times include ansible-playbook's own start-up, shown separately as a no-op task.
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import run_task
from tests.simulators.routeros.launcher import SimulatorProcess

USERNAME, PASSWORD = "admin", "benchmark"
PORTS = ["sfp28-1", "sfp28-2", "sfp28-3", "sfp28-4", "sfp-sfpplus1", "sfp-sfpplus2", "sfp-sfpplus3", "sfp-sfpplus4", "qsfp28-1-1"]
UPLINK = "qsfp28-1-1"
DPU_PORTS = ["sfp28-1", "sfp28-2", "sfp28-3"]
BULK_INTERFACE = "vlan72"
BULK_SERVER = "dhcp-vlan72"


# ---------------------------------------------------------------------------------------------
# Counting proxy: parses the API's length-prefixed words in both directions
# ---------------------------------------------------------------------------------------------


class SentenceCounter:
    """Incremental parser of one direction of the API stream; counts complete sentences."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.in_sentence = False
        self.sentences = 0

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            word_length = self._next_word_length()
            if word_length is None:
                return
            header, length = word_length
            if len(self.buffer) < header + length:
                return
            del self.buffer[: header + length]
            if length == 0:
                if self.in_sentence:
                    self.sentences += 1
                self.in_sentence = False
            else:
                self.in_sentence = True

    def _next_word_length(self) -> tuple[int, int] | None:
        if not self.buffer:
            return None
        first = self.buffer[0]
        for header, marker, mask in ((1, 0x00, 0x80), (2, 0x80, 0xC0), (3, 0xC0, 0xE0), (4, 0xE0, 0xF0)):
            if first & mask == marker:
                if len(self.buffer) < header:
                    return None
                value = int.from_bytes(self.buffer[:header], "big")
                return header, value & ((1 << (8 * header - header)) - 1)
        if len(self.buffer) < 5:
            return None
        return 5, int.from_bytes(self.buffer[1:5], "big")


@dataclass
class Counts:
    sent: int = 0
    received: int = 0


class CountingProxy:
    """Forwards 127.0.0.1:<port> to the simulator and counts the API sentences of every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.counts = Counts()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CountingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(timeout=5)

    def take(self) -> Counts:
        with self.lock:
            counts, self.counts = self.counts, Counts()
        return counts

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        server = socket.create_connection(self.target)
        counters = {client: SentenceCounter(), server: SentenceCounter()}
        peer = {client: server, server: client}
        selector = selectors.DefaultSelector()
        for sock in (client, server):
            selector.register(sock, selectors.EVENT_READ)
        try:
            while True:
                for key, _events in selector.select(timeout=1):
                    ready = client if key.fileobj is client else server
                    data = ready.recv(65536)
                    if not data:
                        return
                    peer[ready].sendall(data)
                    counters[ready].feed(data)
        except OSError:
            return
        finally:
            with self.lock:
                self.counts.sent += counters[client].sentences
                self.counts.received += counters[server].sentences
            selector.close()
            client.close()
            server.close()


# ---------------------------------------------------------------------------------------------
# The reference plan and the leases
# ---------------------------------------------------------------------------------------------


def reference_vlan(connection: dict[str, Any]) -> dict[str, Any]:
    """Bridge VLANs of the seed datacenter: management 64, PXE 65 untagged to the DPUs, 67/68 tagged, 72 reserved."""
    vlan_ids = list(range(64, 73))
    return {
        **connection,
        "bridge": {"name": "bridge1"},
        "management_vlan": 64,
        "management_address": "10.42.64.1/24",
        "management_port": UPLINK,
        "ports": [{"interface": UPLINK, "frame_types": "admit-only-vlan-tagged"}, *({"interface": port, "pvid": 65} for port in DPU_PORTS)],
        "vlans": [
            {"vlan_ids": 64, "tagged": ["bridge1", UPLINK]},
            {"vlan_ids": 65, "tagged": ["bridge1", UPLINK], "untagged": DPU_PORTS},
            {"vlan_ids": "66,69-72", "tagged": ["bridge1", UPLINK]},
            {"vlan_ids": "67-68", "tagged": ["bridge1", UPLINK, *DPU_PORTS]},
        ],
        "interfaces": [
            {"name": f"vlan{vlan_id}", "vlan_id": vlan_id, "addresses": [f"10.42.{vlan_id}.1/{22 if vlan_id == 72 else 24}"]} for vlan_id in vlan_ids
        ],
    }


def reference_netboot(connection: dict[str, Any]) -> dict[str, Any]:
    return {
        **connection,
        "interface": "vlan65",
        "lease_time": "1h",
        "pool": {"ranges": ["10.42.65.100-10.42.65.199"]},
        "network": {"address": "10.42.65.0/24", "gateway": "10.42.65.1", "next_server": "10.42.65.1", "boot_file_name": "snp.efi"},
        "leases": [
            {"mac": "00:e0:66:59:89:84", "address": "10.42.65.92", "hostname": "c4140"},
            {"mac": "00:e0:66:59:88:8b", "address": "10.42.65.82", "hostname": "r640"},
            {"mac": "00:e0:66:59:8c:50", "address": "10.42.65.42", "hostname": "r740xd"},
        ],
        "tftp": [{"req_filename": "snp\\.efi", "real_filename": "tftp/snp.efi", "allow": True, "read_only": True}],
    }


def bulk_netboot(connection: dict[str, Any], count: int) -> dict[str, Any]:
    return {
        **connection,
        "interface": BULK_INTERFACE,
        "server_name": BULK_SERVER,
        "network": {"address": "10.42.72.0/22", "gateway": "10.42.72.1"},
        "leases": [{"mac": mac, "address": address, "hostname": f"node{number:04d}"} for number, (mac, address) in enumerate(lease_data(count))],
    }


def lease_data(count: int) -> Iterator[tuple[str, str]]:
    for number in range(count):
        host = 10 + number  # 10.42.72.10 onwards, across the /22
        yield f"02:00:00:00:{number >> 8:02X}:{number & 0xFF:02X}", f"10.42.{72 + host // 256}.{host % 256}"


def api_modify_leases(connection: dict[str, Any], count: int) -> dict[str, Any]:
    """The same leases for community.routeros.api_modify (its connection options have the same names)."""
    return {
        **connection,
        "path": "ip dhcp-server lease",
        "data": [
            {"server": BULK_SERVER, "mac-address": mac, "address": address, "comment": f"node{number:04d}"}
            for number, (mac, address) in enumerate(lease_data(count))
        ],
        "handle_absent_entries": "ignore",
        "handle_entries_content": "ignore",
    }


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


@dataclass
class Measurement:
    count: int
    tool: str
    run: str
    seconds: float
    cpu_seconds: float
    sent: int
    received: int
    changed: bool


def prepare_state(workdir: Path) -> Path:
    """Apply the reference plan and an empty VLAN 72 server once; the simulator saves that state to a file."""
    state = workdir / "reference-state.json"
    with SimulatorProcess("--username", USERNAME, "--password", PASSWORD, "--ports", ",".join(PORTS), "--state", str(state)) as simulator:
        connection = {"hostname": simulator.host, "port": simulator.port, "username": USERNAME, "password": PASSWORD}
        for module, args in (
            ("diskless.datacenter.routeros_vlan", reference_vlan(connection)),
            ("diskless.datacenter.routeros_netboot", reference_netboot(connection)),
            ("diskless.datacenter.routeros_netboot", bulk_netboot(connection, 0)),
        ):
            ensure_ok(run_task(module, args, tmp_path=workdir), module)
    return state


@contextmanager
def prepared_router(workdir: Path, reference: Path, name: str) -> Iterator[tuple[CountingProxy, dict[str, Any]]]:
    """A fresh simulator started from a copy of the reference state, behind a counting proxy."""
    state = workdir / f"{name}.json"
    shutil.copyfile(reference, state)
    simulator = SimulatorProcess("--username", USERNAME, "--password", PASSWORD, "--ports", ",".join(PORTS), "--state", str(state))
    with simulator, CountingProxy((simulator.host, simulator.port)) as proxy:
        yield proxy, {"hostname": "127.0.0.1", "port": proxy.port, "username": USERNAME, "password": PASSWORD}


def ensure_ok(result: dict[str, Any], what: str) -> dict[str, Any]:
    if result.get("failed"):
        raise SystemExit(f"{what} failed: {result.get('msg')}")
    return result


def measure(proxy: CountingProxy, workdir: Path, *, count: int, tool: str, run: str, module: str, args: dict[str, Any]) -> Measurement:
    proxy.take()
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    result = ensure_ok(run_task(module, args, tmp_path=workdir), f"{tool} {run}")
    seconds = time.perf_counter() - started
    cpu_seconds = children_cpu_seconds() - cpu_before
    counts = proxy.take()
    return Measurement(count, tool, run, seconds, cpu_seconds, counts.sent, counts.received, bool(result.get("changed")))


def children_cpu_seconds() -> float:
    """CPU time of finished child processes: ansible-playbook and the module it ran (not the simulator, still running)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


TOOLS = {
    "routeros_netboot": ("diskless.datacenter.routeros_netboot", bulk_netboot),
    "api_modify": ("community.routeros.api_modify", api_modify_leases),
}


def benchmark(counts: list[int], repeats: int, workdir: Path) -> tuple[float, list[Measurement]]:
    """Median wall time of ``repeats`` runs per lease count, tool and run; sentence counts must not vary."""
    started = time.perf_counter()
    run_task("ansible.builtin.ping", {}, tmp_path=workdir)
    overhead = time.perf_counter() - started
    reference = prepare_state(workdir)
    results: list[Measurement] = []
    for count in counts:
        for tool, (module, make_args) in TOOLS.items():
            samples: dict[str, list[Measurement]] = {"first": [], "unchanged": []}
            for repeat in range(repeats):
                with prepared_router(workdir, reference, f"{tool}-{count}-{repeat}") as (proxy, connection):
                    args = make_args(connection, count)
                    for run, runs in samples.items():
                        runs.append(measure(proxy, workdir, count=count, tool=tool, run=run, module=module, args=args))
            for runs in samples.values():
                if len({(m.sent, m.received, m.changed) for m in runs}) != 1:
                    raise SystemExit(f"{tool} with {count} leases sent different sentence counts across repeats: {runs}")
                wall = statistics.median(m.seconds for m in runs)
                cpu = statistics.median(m.cpu_seconds for m in runs)
                results.append(Measurement(count, tool, runs[0].run, wall, cpu, runs[0].sent, runs[0].received, runs[0].changed))
    return overhead, results


def print_table(overhead: float, results: list[Measurement], repeats: int) -> None:
    print(f"wall s / cpu s: median of {repeats} runs of ansible-playbook with one task, each against a fresh simulator;")
    print("cpu s is the CPU time of ansible-playbook and the module (client side), steadier than wall time on a busy machine")
    print(f"ansible-playbook start-up (a no-op ping task): {overhead:.2f} s wall, included in every wall time below")
    print(f"load average at the end: {', '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    print()
    header = (
        f"{'leases':>6}  {'run':<9}  {'tool':<16}  {'wall s':>7}  {'cpu s':>6}  {'sent':>6}  {'replies':>7}  {'changed':<7}  "
        f"{'wall ratio':>10}  {'cpu ratio':>9}  {'sent ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    ours = {(m.count, m.run): m for m in results if m.tool == "routeros_netboot"}
    for measurement in sorted(results, key=lambda m: (m.count, m.run != "first", m.tool != "routeros_netboot")):
        base = ours[(measurement.count, measurement.run)]
        print(
            f"{measurement.count:>6}  {measurement.run:<9}  {measurement.tool:<16}  {measurement.seconds:>7.2f}  {measurement.cpu_seconds:>6.2f}  "
            f"{measurement.sent:>6}  {measurement.received:>7}  {'yes' if measurement.changed else 'no':<7}  {measurement.seconds / base.seconds:>9.2f}x  "
            f"{measurement.cpu_seconds / base.cpu_seconds:>8.2f}x  {measurement.sent / base.sent:>9.2f}x"
        )
    print()
    print("ratios: each tool / routeros_netboot for the same lease count and run (1.00x = ours)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="250,500,1000", help="comma-separated lease counts (default 250,500,1000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median wall time is shown (default 3)")
    options = parser.parse_args()
    counts = [int(item) for item in options.counts.split(",")]
    with tempfile.TemporaryDirectory(prefix="routeros-bench-") as workdir:
        overhead, results = benchmark(counts, options.repeats, Path(workdir))
    print_table(overhead, results, options.repeats)


if __name__ == "__main__":
    main()
