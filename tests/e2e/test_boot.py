"""End-to-end: two diskless QEMU guests boot from a boot server configured by playbooks/boot.yml.

For each guest: login prompt reached; its reserved IP and its own host name; `/` is an overlay whose
lower layer is the read-only NFS image; the kernel command line carries that host's own parameters;
a file written in /etc survives its reboot and is absent on the other guest; a file written in /usr
vanishes at reboot. Then the playbook runs again (nothing may change) and in check mode. The lab
(network, container, taps, QEMU) is removed afterwards, also on failure.

Slow by nature (TCG emulation, two boots per guest, three playbook runs): minutes, not seconds. Marked `e2e`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest

from lab.guests import Guest
from lab.services import ClientSpec, Lab, LabSpec, running_lab

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab(LabSpec()) as lab:
        yield lab


@pytest.fixture(scope="module")
def guests(lab: Lab) -> Iterator[dict[str, Guest]]:
    """Both guests powered on together (as after a power cut), then logged in on their serial consoles."""
    started = {client.name: lab.power_on(client.name) for client in lab.spec.clients}
    for name, guest in started.items():
        guest.login(name)
    yield started


@pytest.fixture(scope="module")
def rebooted(lab: Lab, guests: dict[str, Guest]) -> dict[str, str]:
    """Write a marker into /etc and /usr on each guest, reboot both, log in again; return the markers."""
    markers = {}
    for name, guest in guests.items():
        marker = f"{name}-{uuid.uuid4().hex[:8]}"
        assert guest.console is not None
        guest.console.check(f"echo {marker} > /etc/e2e-marker && echo {marker} > /usr/e2e-volatile && sync")
        markers[name] = marker
    for guest in guests.values():
        guest.reboot()
    for name, guest in guests.items():
        guest.login(name)
    return markers


def _client(lab: Lab, name: str) -> ClientSpec:
    return lab.client(name)


NAMES = [client.name for client in LabSpec().clients]


@pytest.mark.parametrize("name", NAMES)
def test_reserved_address_and_own_hostname(lab: Lab, guests: dict[str, Guest], name: str) -> None:
    console = guests[name].console
    assert console is not None
    assert console.check("hostname") == name
    addresses = console.check("ip -4 -o addr show scope global | awk '{print $4}'").split()
    assert f"{lab.spec.address(_client(lab, name).octet)}/24" in addresses


@pytest.mark.parametrize("name", NAMES)
def test_root_is_an_overlay_over_the_read_only_nfs_image(lab: Lab, guests: dict[str, Guest], name: str) -> None:
    console = guests[name].console
    assert console is not None
    assert console.check("findmnt -n -o FSTYPE /") == "overlay"
    assert "lowerdir=/run/diskless/lower" in console.check("findmnt -n -o OPTIONS /")
    fstype, source, options = console.check("findmnt -n -o FSTYPE,SOURCE,OPTIONS /run/diskless/lower").split()
    assert fstype == "nfs"
    assert source.startswith(f"{lab.spec.server_ip}:/srv/diskless/images/")
    assert "ro" in options.split(",")
    status = console.run("touch /run/diskless/lower/should-fail")[0]
    assert status != 0, "the image must not be writable by a client"


@pytest.mark.parametrize("name", NAMES)
def test_etc_is_the_hosts_own_nfs_export(lab: Lab, guests: dict[str, Guest], name: str) -> None:
    console = guests[name].console
    assert console is not None
    fstype, source, options = console.check("findmnt -n -o FSTYPE,SOURCE,OPTIONS /etc").split()
    assert (fstype, source) == ("nfs", f"{lab.spec.server_ip}:/srv/diskless/hosts/{name}/etc")
    assert "rw" in options.split(",")


@pytest.mark.parametrize("name", NAMES)
def test_kernel_command_line_carries_the_hosts_parameters(lab: Lab, guests: dict[str, Guest], name: str) -> None:
    console = guests[name].console
    assert console is not None
    cmdline = console.check("cat /proc/cmdline").split()
    own = _client(lab, name).kernel_params.split()
    assert set(own) <= set(cmdline)
    others = {p for c in lab.spec.clients if c.name != name for p in c.kernel_params.split()} - set(own)
    assert not others & set(cmdline), "another host's parameters leaked into this one"


@pytest.mark.parametrize("name", NAMES)
def test_router_advertisements_of_the_boot_server_reached_the_host(lab: Lab, guests: dict[str, Guest], name: str) -> None:
    """dnsmasq_ra_interfaces: the host configured an address in the boot server's IPv6 prefix, and no IPv6 default route."""
    console = guests[name].console
    assert console is not None
    prefix = lab.spec.server_ip6.split("::")[0] + ":"
    addresses = console.check("ip -6 -o addr show scope global | awk '{print $4}'", timeout=120).split()
    assert any(address.startswith(prefix) for address in addresses), addresses
    assert console.check("ip -6 route show default") == "", "router lifetime 0: the boot server must not become a router"


@pytest.mark.parametrize("name", NAMES)
def test_first_dhcp_round_of_the_initramfs_got_its_answer(guests: dict[str, Guest], name: str) -> None:
    """The initramfs waited for the link before ipconfig: no lost round (each costs about 10 s)."""
    console = guests[name].console
    assert console is not None
    boot_log = console.text()
    assert re.search(r"IP-Config: \S+ complete", boot_log)
    assert "IP-Config: no response" not in boot_log


def test_tmpfs_from_kernel_parameter(guests: dict[str, Guest]) -> None:
    """e2e-node2 asks for /var/lib/rancher on tmpfs (state that cannot live on NFS or an overlay); e2e-node1 does not."""
    console = guests["e2e-node2"].console
    assert console is not None
    fstype, options = console.check("findmnt -n -o FSTYPE,OPTIONS /var/lib/rancher").split()
    assert fstype == "tmpfs"
    assert "mode=700" in options.split(",")
    other = guests["e2e-node1"].console
    assert other is not None
    assert other.run("findmnt -n /var/lib/rancher")[0] != 0


@pytest.mark.parametrize("name", NAMES)
def test_etc_survives_reboot_and_usr_does_not(guests: dict[str, Guest], rebooted: dict[str, str], name: str) -> None:
    console = guests[name].console
    assert console is not None
    assert console.check("cat /etc/e2e-marker") == rebooted[name]
    status = console.run("test -e /usr/e2e-volatile")[0]
    assert status != 0, "a file written in /usr must vanish at reboot"


@pytest.mark.parametrize("name", NAMES)
def test_etc_is_not_shared_with_the_other_host(guests: dict[str, Guest], rebooted: dict[str, str], name: str) -> None:
    console = guests[name].console
    assert console is not None
    for other, marker in rebooted.items():
        if other != name:
            status, output = console.run("cat /etc/e2e-marker")
            assert status == 0 and output == rebooted[name] and output != marker


def test_second_run_changes_nothing(lab: Lab, rebooted: dict[str, str]) -> None:
    """The whole boot playbook again, with the hosts up: idempotent (and it keeps the hosts' /etc changes)."""
    lab.configure()
    recap = lab.last_recap()
    assert recap["failed"] == 0 and recap["changed"] == 0, recap
    console = lab.guests["e2e-node1"].console
    assert console is not None
    assert console.check("cat /etc/e2e-marker") == rebooted["e2e-node1"]


def test_check_mode_runs_clean(lab: Lab) -> None:
    """--check --diff against the configured server: nothing fails, nothing would change."""
    lab.configure(check=True)
    recap = lab.last_recap()
    assert recap["failed"] == 0 and recap["changed"] == 0, recap
