"""Verify dnsmasq with real clients: network namespaces plugged into the scenario's podman network."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from lab.netclient import NetnsClient, podman_bridge

NETWORK = "dc-molecule-dnsmasq"
RESERVED = {"52:54:00:c7:41:40": ("node-a", 11), "52:54:00:c7:41:41": ("node-b", 12)}
UNKNOWN_MAC = "52:54:00:c7:99:99"


@pytest.fixture(scope="module")
def bridge() -> str:
    return podman_bridge(NETWORK)


@pytest.fixture(scope="module")
def server(host: Any) -> ipaddress.IPv4Interface:
    """The server's address on the scenario network (podman chose the subnet)."""
    address = host.ansible("setup", "gather_subset=network")["ansible_facts"]["ansible_default_ipv4"]
    return ipaddress.IPv4Interface(f"{address['address']}/{address['netmask']}")


CLIENT_OFFSETS = {11, 12, *range(200, 211)}


def nth(server: ipaddress.IPv4Interface, offset: int) -> str:
    """A client's address: offset in the network, 20 further on when the server holds one of the clients' (converge.yml)."""
    shift = 20 if int(server.ip) - int(server.network.network_address) in CLIENT_OFFSETS else 0
    return str(server.network.network_address + offset + shift)


def test_service_running_and_config_valid(host: Any, server: ipaddress.IPv4Interface) -> None:
    assert host.service("dnsmasq").is_running
    assert host.service("dnsmasq").is_enabled
    assert host.run("dnsmasq --test").rc == 0
    config = host.file("/etc/dnsmasq.d/diskless-datacenter.conf")
    assert config.contains(f"dhcp-host=52:54:00:c7:41:40,node-a,{nth(server, 11)},set:diskless")


@pytest.mark.parametrize("mac", sorted(RESERVED))
def test_reserved_client_gets_its_ip_hostname_and_boot_file(bridge: str, server: ipaddress.IPv4Interface, mac: str) -> None:
    hostname, offset = RESERVED[mac]
    with NetnsClient(bridge=bridge, mac=mac) as client:
        lease = client.dhcp()
    assert lease.get("fixed-address") == nth(server, offset), lease
    assert lease.get("host-name") == hostname, lease
    assert lease.get("domain-name") == "molecule.test", lease
    assert lease.get("server") == str(server.ip), lease
    # dhclient is neither UEFI nor iPXE: it gets the BIOS loader.
    assert lease.get("filename") == "undionly.kpxe", lease


def test_ipxe_client_is_chained_and_told_not_to_wait_for_proxydhcp(bridge: str, server: ipaddress.IPv4Interface) -> None:
    """A reserved client whose user class says iPXE gets the chain URL and iPXE option 176 (no-pxedhcp) = 1."""
    with NetnsClient(bridge=bridge, mac="52:54:00:c7:41:40") as client:
        lease = client.dhcp(user_class="iPXE")
    assert lease.get("filename") == f"http://{server.ip}/boot.ipxe", lease
    # option 176, length 1, value 1; dnsmasq closes the encapsulated options with END (255)
    assert lease.get("ipxe-encap") in ("b0:1:1", "b0:1:1:ff"), lease


def test_unknown_client_gets_a_pool_address_but_no_boot_file(bridge: str, server: ipaddress.IPv4Interface) -> None:
    with NetnsClient(bridge=bridge, mac=UNKNOWN_MAC) as client:
        lease = client.dhcp()
    pool = {nth(server, offset) for offset in range(200, 211)}
    assert lease.get("fixed-address") in pool, lease
    assert "filename" not in lease, lease


def test_tftp_fetch_from_the_tftp_root(bridge: str, server: ipaddress.IPv4Interface) -> None:
    with NetnsClient(bridge=bridge, mac="52:54:00:c7:41:40") as client:
        client.hold(client.dhcp())
        assert client.tftp_get(str(server.ip), "hello.txt") == b"hello from the boot server\n"
        assert client.tftp_get(str(server.ip), "missing.txt") is None


def test_dns_answers_for_reserved_hosts(bridge: str, server: ipaddress.IPv4Interface) -> None:
    with NetnsClient(bridge=bridge, mac="52:54:00:c7:41:41") as client:
        client.hold(client.dhcp())
        answer = client.netns("busybox", "nslookup", "node-a.molecule.test", str(server.ip), check=False)
    assert nth(server, 11) in answer.stdout, answer.stdout + answer.stderr


def test_router_advertisements_give_an_address_but_no_default_route(bridge: str) -> None:
    """dnsmasq_ra_interfaces: a client autoconfigures an address in eth0's prefix; router lifetime 0, so no default route."""
    with NetnsClient(bridge=bridge, mac=UNKNOWN_MAC) as client:
        addresses = client.ipv6_autoconfigured("fd00:c7:41:")
        routes = client.netns("ip", "-6", "route", "show", "default").stdout
    assert any(address.startswith("fd00:c7:41:") for address in addresses), addresses
    assert routes.strip() == "", routes
