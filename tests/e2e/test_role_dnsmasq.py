"""Role dnsmasq's preflight: every problem in its input reported at once, by field and value, before any change.

The role's behaviour with real clients is the Molecule scenario's (extensions/molecule/dnsmasq); this runs
only the preflight (tasks_from=preflight) on this machine, which installs and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.playbook import role_task, run_play

SUBNET = {"network": "10.42.65.0", "netmask": "255.255.255.0", "start": "10.42.65.200", "end": "10.42.65.250", "tag": "pxe"}
GOOD = {"mac": "52:54:00:12:34:56", "hostname": "node1", "ip": "10.42.65.11", "tags": ["diskless"]}


def preflight(tmp_path: Path, **params: object) -> dict[str, object]:
    return run_play(tmp_path, [role_task("dnsmasq", "preflight", dnsmasq_dhcp_subnets=[SUBNET], **params)])


def test_good_input_passes(tmp_path: Path) -> None:
    result = preflight(tmp_path, dnsmasq_reservations=[GOOD], dnsmasq_ra_interfaces=["eth0", "br-pxe.65"])
    assert not result["failed"], result["msg"]


def test_every_problem_is_named_with_its_field_and_value(tmp_path: Path) -> None:
    reservations = [
        GOOD,
        {"mac": "52:54:00:12:34", "hostname": "node2", "ip": "10.42.65.12"},
        {"mac": "52:54:00:12:34:58", "hostname": "Node_3", "ip": "10.42.66.13"},
        {"mac": "52:54:00:12:34:59", "hostname": "node1", "ip": "10.42.65.14"},
    ]
    result = preflight(tmp_path, dnsmasq_reservations=reservations, dnsmasq_ra_interfaces=["eth0", "not an interface", "eth1"],
                       dnsmasq_interfaces=["eth0"],
                       dnsmasq_ipxe_chain_url="ftp://boot/boot.ipxe")  # fmt: skip
    assert result["failed"]
    message = str(result["msg"])
    for needle in [
        "dnsmasq_reservations[1]: mac=52:54:00:12:34: not a MAC address",
        "dnsmasq_reservations[2]: hostname=Node_3: not a host name",
        "dnsmasq_reservations[2]: ip=10.42.66.13: not inside any subnet in dnsmasq_dhcp_subnets",
        "dnsmasq_reservations: hostname=node1: used by more than one reservation",
        "dnsmasq_ra_interfaces: not an interface: not a network interface name",
        "dnsmasq_ra_interfaces: eth1: not in dnsmasq_interfaces, where dnsmasq does not listen",
        "dnsmasq_ipxe_chain_url=ftp://boot/boot.ipxe: must be an http://, https:// or tftp:// URL",
    ]:
        assert needle in message, message


def test_a_single_interface_name_is_not_taken_for_a_list(tmp_path: Path) -> None:
    result = preflight(tmp_path, dnsmasq_reservations=[GOOD], dnsmasq_ra_interfaces="eth0")
    assert result["failed"]
    assert "dnsmasq_ra_interfaces=eth0: must be a list of interface names" in str(result["msg"])
