"""Static DHCP leases at scale: routeros_netboot vs community.routeros.api_modify, against the RouterOS simulator.

Setup, once: the reference plan - playbooks/network.yml (the rds role) with inventories/example: bridge VLANs
64-71 with their VLAN interfaces, netboot on VLAN 65 for the reference hosts, the NVMe/TCP export - plus a bulk
VLAN 72 (10.42.72.0/22) with an empty DHCP server dhcp-vlan72 made by routeros_vlan and routeros_netboot. The
simulator saves that state (``--state``). For each lease count (250, 500, 1000), each tool and each repeat, a
fresh simulator starts from that state and the same N static leases of dhcp-vlan72 are applied twice - a first
run that creates them and an unchanged run - measuring the wall time of ``ansible-playbook`` (one task) and the
API sentences. Both tools get the same data (server, MAC, address, comment = host name); routeros_netboot is
given only ``server_name`` and ``leases`` (the server exists), api_modify ``path: ip dhcp-server lease``.

Sentences are counted outside both tools: a TCP proxy between Ansible and the simulator parses the API framing
(sentences the client sent, login included, and sentences the router answered: !re, !done, !trap), and the
simulator's own command log (``--log-commands``) gives the command of every sentence it received, which shows
what each run sent (for the unchanged run: only prints, one per menu).

Run from the repository root: ``.venv/bin/python benchmarks/routeros_leases.py [--counts 250,500,1000] [--repeats 3]``.
Prints a table; wall times include ansible-playbook's own start-up, shown separately as a no-op task.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lab.ansible import VENV_BIN, ansible_env, run_task
from lab.simulators.routeros.launcher import SimulatorProcess

USERNAME, PASSWORD = "admin", "benchmark"
PORTS = ["sfp28-1", "sfp28-2", "sfp28-3", "sfp28-4", "sfp-sfpplus1", "sfp-sfpplus2", "sfp-sfpplus3", "sfp-sfpplus4", "qsfp28-1-1"]
UPLINK = "qsfp28-1-1"
BRIDGE = "bridge1"
BULK_VLAN = 72
BULK_INTERFACE = "vlan72-bulk"
BULK_SERVER = "dhcp-vlan72"
OURS, THEIRS = "routeros_netboot", "api_modify"


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


def apply_reference_plan(connection: dict[str, Any], workdir: Path) -> None:
    """playbooks/network.yml with the reference inventory, pointed at the simulator (plain API, no TLS)."""
    override = workdir / "router.yml"
    routeros = {"bridge": BRIDGE, "username": USERNAME, "password": PASSWORD, "tls": False, "port": connection["port"], "uplink_ports": [UPLINK]}
    override.write_text(yaml.safe_dump({"ansible_host": connection["hostname"], "dc_routeros": routeros}))
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/example", "playbooks/network.yml", "-e", f"@{override}"],
        capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=600, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"the reference plan failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")


def bulk_vlan(connection: dict[str, Any]) -> dict[str, Any]:
    """VLAN 72 on the reference bridge (tagged to the CPU and the uplink) with its VLAN interface and a /22."""
    return {
        **connection,
        "bridge": {"name": BRIDGE},
        "vlans": [{"vlan_ids": BULK_VLAN, "tagged": [BRIDGE, UPLINK]}],
        "interfaces": [{"name": BULK_INTERFACE, "vlan_id": BULK_VLAN, "addresses": [f"10.42.{BULK_VLAN}.1/22"]}],
    }


def bulk_server(connection: dict[str, Any]) -> dict[str, Any]:
    return {
        **connection,
        "interface": BULK_INTERFACE,
        "server_name": BULK_SERVER,
        "network": {"address": f"10.42.{BULK_VLAN}.0/22", "gateway": f"10.42.{BULK_VLAN}.1"},
    }


def lease_data(count: int) -> Iterator[tuple[str, str, str]]:
    for number in range(count):
        host = 10 + number  # 10.42.72.10 onwards, across the /22
        yield f"02:00:00:00:{number >> 8:02X}:{number & 0xFF:02X}", f"10.42.{BULK_VLAN + host // 256}.{host % 256}", f"node{number:04d}"


def our_leases(connection: dict[str, Any], count: int) -> dict[str, Any]:
    """Only the leases of the existing server: routeros_netboot then reads and writes /ip/dhcp-server/lease alone."""
    return {
        **connection,
        "server_name": BULK_SERVER,
        "leases": [{"mac": mac, "address": address, "hostname": name} for mac, address, name in lease_data(count)],
    }


def api_modify_leases(connection: dict[str, Any], count: int) -> dict[str, Any]:
    """The same leases for community.routeros.api_modify (its connection options have the same names)."""
    return {
        **connection,
        "path": "ip dhcp-server lease",
        "data": [{"server": BULK_SERVER, "mac-address": mac, "address": address, "comment": name} for mac, address, name in lease_data(count)],
        "handle_absent_entries": "ignore",
        "handle_entries_content": "ignore",
    }


TOOLS = {
    OURS: ("diskless.datacenter.routeros_netboot", our_leases),
    THEIRS: ("community.routeros.api_modify", api_modify_leases),
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
    commands: tuple[tuple[str, int], ...]  # command word -> sentences, from the simulator's log

    @property
    def reads_only(self) -> bool:
        return all(command == "/login" or command.endswith("/print") for command, _number in self.commands)


def simulator_args(state: Path, log: Path | None = None) -> list[str]:
    args = ["--username", USERNAME, "--password", PASSWORD, "--ports", ",".join(PORTS), "--state", str(state)]
    return [*args, "--log-commands", str(log)] if log is not None else args


def prepare_state(workdir: Path) -> Path:
    """Apply the reference plan and the bulk VLAN's empty DHCP server once; the simulator saves that state to a file."""
    state = workdir / "reference-state.json"
    with SimulatorProcess(*simulator_args(state)) as simulator:
        connection = {"hostname": simulator.host, "port": simulator.port, "username": USERNAME, "password": PASSWORD}
        apply_reference_plan(connection, workdir)
        for module, args in (("diskless.datacenter.routeros_vlan", bulk_vlan(connection)), ("diskless.datacenter.routeros_netboot", bulk_server(connection))):
            ensure_ok(run_task(module, args, tmp_path=workdir), module)
    return state


class CommandLogReader:
    """Reads the simulator's command log in slices (``<connection>TAB<command>`` lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = 0

    def take(self) -> Counter[str]:
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        fresh, self.seen = lines[self.seen :], len(lines)
        return Counter(line.split("\t", 1)[1] for line in fresh)


@contextmanager
def prepared_router(workdir: Path, reference: Path, name: str) -> Iterator[tuple[CountingProxy, CommandLogReader, dict[str, Any]]]:
    """A fresh simulator started from a copy of the reference state, behind a counting proxy, logging commands."""
    state = workdir / f"{name}.json"
    log = workdir / f"{name}.log"
    shutil.copyfile(reference, state)
    with SimulatorProcess(*simulator_args(state, log)) as simulator, CountingProxy((simulator.host, simulator.port)) as proxy:
        yield proxy, CommandLogReader(log), {"hostname": "127.0.0.1", "port": proxy.port, "username": USERNAME, "password": PASSWORD}


def ensure_ok(result: dict[str, Any], what: str) -> dict[str, Any]:
    if result.get("failed"):
        raise SystemExit(f"{what} failed: {result.get('msg')}")
    return result


def measure(proxy: CountingProxy, log: CommandLogReader, workdir: Path, *, count: int, tool: str, run: str, module: str, args: dict[str, Any]) -> Measurement:
    proxy.take()
    log.take()
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    result = ensure_ok(run_task(module, args, tmp_path=workdir), f"{tool} {run}")
    seconds = time.perf_counter() - started
    cpu_seconds = children_cpu_seconds() - cpu_before
    counts = proxy.take()
    commands = log.take()
    if sum(commands.values()) != counts.sent:
        raise SystemExit(f"{tool} {run}: the proxy counted {counts.sent} sentences, the simulator logged {sum(commands.values())}")
    return Measurement(count, tool, run, seconds, cpu_seconds, counts.sent, counts.received, bool(result.get("changed")), tuple(sorted(commands.items())))


def children_cpu_seconds() -> float:
    """CPU time of finished child processes: ansible-playbook and the module it ran (not the simulator, still running)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def benchmark(counts: list[int], repeats: int, workdir: Path) -> tuple[float, list[Measurement]]:
    """Median wall time of ``repeats`` runs per lease count, tool and run; sentence counts must not vary.

    The tools alternate within each repeat, so that a change in machine load hits both alike.
    """
    started = time.perf_counter()
    run_task("ansible.builtin.ping", {}, tmp_path=workdir)
    overhead = time.perf_counter() - started
    reference = prepare_state(workdir)
    results: list[Measurement] = []
    for count in counts:
        samples: dict[tuple[str, str], list[Measurement]] = {(tool, run): [] for tool in TOOLS for run in ("first", "unchanged")}
        for repeat in range(repeats):
            for tool, (module, make_args) in TOOLS.items():
                with prepared_router(workdir, reference, f"{tool}-{count}-{repeat}") as (proxy, log, connection):
                    args = make_args(connection, count)
                    for run in ("first", "unchanged"):
                        samples[(tool, run)].append(measure(proxy, log, workdir, count=count, tool=tool, run=run, module=module, args=args))
        for (tool, run), runs in samples.items():
            if len({(m.sent, m.received, m.changed, m.commands) for m in runs}) != 1:
                raise SystemExit(f"{tool} with {count} leases sent different sentences across repeats: {runs}")
            wall = statistics.median(m.seconds for m in runs)
            cpu = statistics.median(m.cpu_seconds for m in runs)
            first = runs[0]
            results.append(Measurement(count, tool, run, wall, cpu, first.sent, first.received, first.changed, first.commands))
    return overhead, results


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def print_table(overhead: float, results: list[Measurement], repeats: int) -> None:
    print(f"wall s / cpu s: median of {repeats} runs of ansible-playbook with one task, each against a fresh simulator;")
    print("cpu s is the CPU time of ansible-playbook and the module (client side), steadier than wall time on a busy machine")
    print(f"ansible-playbook start-up (a no-op ping task): {overhead:.2f} s wall, included in every wall time below")
    print(f"load average at the end: {', '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    print()
    header = (
        f"{'leases':>6}  {'run':<9}  {'tool':<16}  {'wall s':>7}  {'cpu s':>6}  {'sent':>6}  {'replies':>7}  {'changed':<7}  "
        f"{'ours/api_modify: wall':>21}  {'cpu':>5}  {'sent':>5}  commands sent (simulator log)"
    )
    print(header)
    print("-" * len(header))
    by_key = {(m.count, m.run, m.tool): m for m in results}
    for measurement in sorted(results, key=lambda m: (m.count, m.run != "first", m.tool != OURS)):
        line = (
            f"{measurement.count:>6}  {measurement.run:<9}  {measurement.tool:<16}  {measurement.seconds:>7.2f}  {measurement.cpu_seconds:>6.2f}  "
            f"{measurement.sent:>6}  {measurement.received:>7}  {'yes' if measurement.changed else 'no':<7}  "
        )
        if measurement.tool == OURS:
            theirs = by_key[(measurement.count, measurement.run, THEIRS)]
            ratios = (measurement.seconds / theirs.seconds, measurement.cpu_seconds / theirs.cpu_seconds, measurement.sent / theirs.sent)
            line += f"{ratios[0]:>20.2f}x  {ratios[1]:>4.2f}x  {ratios[2]:>4.2f}x  "
        else:
            line += f"{'':>21}  {'':>5}  {'':>5}  "
        print(line + ", ".join(f"{command} x{number}" for command, number in measurement.commands))
    print()
    print_linearity(results)
    print()
    print_targets(results)


def print_linearity(results: list[Measurement]) -> None:
    """Sentences and seconds per lease of the first run, overall and between the smallest and largest count."""
    print("linearity of the first run (per lease: sentences sent, and the marginal cost between the smallest and largest count)")
    for tool in TOOLS:
        runs = sorted((m for m in results if m.tool == tool and m.run == "first"), key=lambda m: m.count)
        per_lease = ", ".join(f"{m.count}: {m.sent / m.count:.3f}" for m in runs)
        line = f"  {tool:<16}  sentences/lease {per_lease}"
        if len(runs) > 1:
            low, high = runs[0], runs[-1]
            extra = high.count - low.count
            line += (
                f"; marginal {(high.sent - low.sent) / extra:.3f} sentences/lease, {(high.seconds - low.seconds) / extra * 1000:.2f} ms/lease wall, "
                f"{(high.cpu_seconds - low.cpu_seconds) / extra * 1000:.2f} ms/lease cpu"
            )
        print(line)


def print_targets(results: list[Measurement]) -> None:
    """The issue's targets, checked on these figures."""
    ours = [m for m in results if m.tool == OURS]
    theirs = {(m.count, m.run): m for m in results if m.tool == THEIRS}
    unchanged = [m for m in ours if m.run == "unchanged"]
    checks = {
        "unchanged run sends only reads, one print per managed menu": all(
            m.reads_only and not m.changed and all(number == 1 for command, number in m.commands) for m in unchanged
        ),
        "sentences at most api_modify's (first and unchanged runs)": all(m.sent <= theirs[(m.count, m.run)].sent for m in ours),
        "wall time at most api_modify's (median; first and unchanged runs)": all(m.seconds <= theirs[(m.count, m.run)].seconds for m in ours),
        "first run: sentences = a fixed number + one per lease": len({m.sent - m.count for m in ours if m.run == "first"}) == 1,
    }
    print("targets")
    for text, met in checks.items():
        print(f"  {'met    ' if met else 'NOT MET'}  {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="250,500,1000", help="comma-separated lease counts (default 250,500,1000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; the median wall time is shown (default 3)")
    parser.add_argument("--json", type=Path, help="also write the measurements to this file")
    options = parser.parse_args()
    counts = [int(item) for item in options.counts.split(",")]
    with tempfile.TemporaryDirectory(prefix="routeros-bench-") as workdir:
        overhead, results = benchmark(counts, options.repeats, Path(workdir))
    print_table(overhead, results, options.repeats)
    if options.json:
        options.json.write_text(json.dumps({"overhead": overhead, "results": [vars(m) for m in results]}, indent=1))


if __name__ == "__main__":
    main()
