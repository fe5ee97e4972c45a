"""What the RouterOS modules send: only reads of the menus a task manages, one print each, and no read-back.

The simulator logs every sentence a client sends (``--log-commands``: connection number and command word,
see lab/simulators/routeros/README.md), so the counts come from the router side, not from the modules.
Router state is checked through a separate librouteros connection. A real router keeps no such log: these
tests run against the simulator only and are skipped when ROUTEROS_HOST names a real router.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.routeros import RouterOSTarget, connect_api
from tests.support.routeros_cases import NETBOOT, NVME, VLAN, make_pxe_vlan, netboot_args, nvme_args, vlan_args

Run = Callable[..., dict[str, Any]]
PORTS = ["ether1", "ether2", "ether3"]
LEASE_PATH = "/ip/dhcp-server/lease"


class CommandLog:
    """The simulator's command log, read in slices: the connections one module run opened and what each sent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = 0

    def new_connections(self) -> list[list[str]]:
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []
        fresh, self.seen = lines[self.seen :], len(lines)
        connections: dict[str, list[str]] = {}
        for line in fresh:
            number, command = line.split("\t", 1)
            connections.setdefault(number, []).append(command)
        return list(connections.values())

    def run(self, run_module: Run, module: str, args: dict[str, Any], **options: Any) -> tuple[dict[str, Any], list[str]]:
        """Run one task; return its result and the commands of the one connection it opened."""
        self.new_connections()
        result = run_module(module, args, **options)
        assert not result.get("failed"), result
        connections = self.new_connections()
        assert len(connections) == 1, f"the module opened {len(connections)} connections: {connections}"
        return result, connections[0]


@pytest.fixture
def logged_router(routeros_simulator: Callable[..., RouterOSTarget], tmp_path: Path) -> tuple[RouterOSTarget, CommandLog]:
    log = tmp_path / "commands.log"
    target = routeros_simulator("--ports", ",".join(PORTS), "--log-commands", str(log))
    return target, CommandLog(log)


def prints_only(commands: list[str]) -> list[str]:
    """The paths read, after checking the connection sent login, then prints and nothing else."""
    assert commands[0] == "/login", commands
    assert all(command.endswith("/print") for command in commands[1:]), f"an unchanged run wrote: {commands}"
    paths = [command.removesuffix("/print") for command in commands[1:]]
    assert len(paths) == len(set(paths)), f"a menu was read twice: {commands}"
    return paths


def no_read_after_write(commands: list[str]) -> None:
    writes = [index for index, command in enumerate(commands) if not command.endswith("/print") and command != "/login"]
    assert writes, commands
    assert all(not command.endswith("/print") for command in commands[writes[0] :]), f"state was read back after a change: {commands}"


def leases_by_mac(target: RouterOSTarget, server: str) -> dict[str, tuple[str, str]]:
    api = connect_api(target)
    try:
        rows = [row for row in api.path("ip", "dhcp-server", "lease") if row.get("server") == server and not row.get("dynamic")]
    finally:
        api.close()
    return {str(row["mac-address"]): (str(row["address"]), str(row.get("comment", ""))) for row in rows}


def test_leases_only_task_reads_and_writes_the_lease_menu_alone(logged_router: tuple[RouterOSTarget, CommandLog], run_module: Run) -> None:
    target, log = logged_router
    api = connect_api(target)
    try:
        make_pxe_vlan(api)
        api.path("ip", "dhcp-server").add(name="dhcp-test", interface="vlan3065")
    finally:
        api.close()
    leases = [{"mac": f"02:00:00:00:00:{number:02x}", "address": f"10.199.65.{10 + number}", "hostname": f"node{number}"} for number in range(20)]
    args = {**target.connection_args(), "server_name": "dhcp-test", "leases": leases}

    checked, check_commands = log.run(run_module, NETBOOT, args, check=True, diff=True)
    assert check_commands == ["/login", f"{LEASE_PATH}/print"]
    assert leases_by_mac(target, "dhcp-test") == {}, "check mode changed the router"

    first, first_commands = log.run(run_module, NETBOOT, args, diff=True)
    assert first_commands == ["/login", f"{LEASE_PATH}/print", *[f"{LEASE_PATH}/add"] * len(leases)]
    expected = {lease["mac"].upper(): (lease["address"], lease["hostname"]) for lease in leases}
    assert leases_by_mac(target, "dhcp-test") == expected
    assert first["diff"]["after"] == checked["diff"]["after"] == first["state"], "check mode and the real run must report the same after state"
    assert {lease["mac"]: (lease["address"], lease["comment"]) for lease in first["state"]["leases"]} == expected
    assert set(first["state"]) == {"server_name", "hostname_mode", "leases"}, "only the managed part is reported"

    again, again_commands = log.run(run_module, NETBOOT, args)
    assert not again["changed"]
    assert prints_only(again_commands) == [LEASE_PATH]


def test_unchanged_runs_send_one_print_per_managed_menu(logged_router: tuple[RouterOSTarget, CommandLog], run_module: Run) -> None:
    target, log = logged_router
    vlan = vlan_args(target, PORTS)
    netboot = netboot_args(target, hostname_mode="option")
    nvme = nvme_args(target)
    first_runs = {module: log.run(run_module, module, args) for module, args in ((VLAN, vlan), (NETBOOT, netboot), (NVME, nvme))}
    for result, commands in first_runs.values():
        assert result["changed"]
        no_read_after_write(commands)

    vlan_again, vlan_commands = log.run(run_module, VLAN, vlan)
    assert not vlan_again["changed"]
    assert sorted(prints_only(vlan_commands)) == ["/interface/bridge", "/interface/bridge/port", "/interface/bridge/vlan", "/interface/vlan", "/ip/address"]

    netboot_again, netboot_commands = log.run(run_module, NETBOOT, netboot)
    assert not netboot_again["changed"]
    managed = ["/ip/dhcp-server", "/ip/dhcp-server/lease", "/ip/dhcp-server/network", "/ip/dhcp-server/option", "/ip/pool", "/ip/tftp"]
    assert sorted(prints_only(netboot_commands)) == managed

    nvme_again, nvme_commands = log.run(run_module, NVME, nvme)
    assert not nvme_again["changed"]
    assert prints_only(nvme_commands) == ["/disk"]


def test_after_state_without_read_back_matches_the_router(logged_router: tuple[RouterOSTarget, CommandLog], run_module: Run) -> None:
    """The after state is the before state plus the plan; the same task fed what the router now holds reports it unchanged."""
    target, log = logged_router
    vlan = vlan_args(target, PORTS)
    predicted, _check = log.run(run_module, VLAN, vlan, check=True, diff=True)
    applied, commands = log.run(run_module, VLAN, vlan, diff=True)
    no_read_after_write(commands)
    assert applied["diff"]["after"] == predicted["diff"]["after"] == applied["state"]
    confirmed, _again = log.run(run_module, VLAN, vlan, diff=True)
    assert not confirmed["changed"]
    # What the router now holds, as the module reads it, holds every predicted value (plus defaults the router filled in).
    for section, key in (("ports", "interface"), ("vlans", "vlan_ids"), ("interfaces", "name")):
        actual = {entry[key]: entry for entry in confirmed["diff"]["before"][section]}
        assert sorted(actual) == sorted(entry[key] for entry in applied["state"][section]), section
        for entry in applied["state"][section]:
            assert entry.items() <= actual[entry[key]].items(), (section, entry, actual[entry[key]])
    api = connect_api(target)
    try:
        table = {str(row["vlan-ids"]): set(str(row["tagged"]).split(",")) for row in api.path("interface", "bridge", "vlan") if not row.get("dynamic")}
    finally:
        api.close()
    assert table == {entry["vlan_ids"]: set(entry["tagged"]) for entry in applied["state"]["vlans"]}
