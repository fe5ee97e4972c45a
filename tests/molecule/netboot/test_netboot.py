"""Verify the netboot role over HTTP from inside the boot server, the way iPXE fetches: entry script,
per-MAC script, then the kernel and initrd that script names; the pxelinux menus; each host's /etc and its
sealed bundle (served over HTTP, opened here with the host's key the way its initramfs does).

The images are fake (prepare.yml): text files as kernels and initrds, different per version, so a
fetched file shows which version a host boots. The side effect wrote into node-a's /etc and sealed it again
before the idempotence run (the role's second run).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from typing import Any

import pytest
import testinfra

SERVER = testinfra.get_host("podman://dc-molecule-netboot")
STORE = "/srv/diskless/images/deb"
HOSTS_ROOT = "/srv/diskless/hosts"
BOOT_ROOT = "/srv/diskless/boot"
PASSWORD_HASH = "$6$molecule$8qfViZV14AiCE8fQWOQ2uB.e3uAvP.Zgfc9HNi.P28OzLDIjMNM5uANjrnsJh7SMEn4np0iUmHVgYOCAT2Hxe."
# host -> (MAC file name, address offset in the subnet, image version, its own kernel parameters)
HOSTS = {
    "node-a": ("52-54-00-c7-42-0a", 11, "bbbbbbbbbbb2", "intel_iommu=on iommu=pt"),  # default image: current -> bbbbbbbbbbb2
    "node-b": ("52-54-00-c7-42-0b", 12, "aaaaaaaaaaa1", "diskless.tmpfs=/var/lib/rancher"),  # pinned deb@aaaaaaaaaaa1
}
VERSIONS = ["aaaaaaaaaaa1", "bbbbbbbbbbb2", "ccccccccccc3"]


@pytest.fixture(scope="module")
def interface() -> ipaddress.IPv4Interface:
    """The boot server's address and network (podman chose them; the role was given them from facts)."""
    route = SERVER.check_output("ip -o -4 route get 1.1.1.1")
    device = re.search(r" dev (\S+)", route).group(1)  # type: ignore[union-attr]
    return ipaddress.IPv4Interface(SERVER.check_output(f"ip -o -4 addr show dev {device}").split()[3])


@pytest.fixture(scope="module")
def address(interface: ipaddress.IPv4Interface) -> str:
    return str(interface.ip)


def host_ip(interface: ipaddress.IPv4Interface, host: str) -> str:
    return str(interface.network.network_address + HOSTS[host][1])


def get(url: str, method: str = "GET") -> tuple[int, str]:
    """(HTTP status, body) with curl inside the container; HEAD asks for the headers alone."""
    request = "--head" if method == "HEAD" else f"--request {method}"
    out = SERVER.run(f"curl --silent --show-error --max-time 20 {request} --output - --write-out '\\n%{{http_code}}' {shlex.quote(url)}")
    assert out.rc == 0, out.stderr
    body, _sep, status = out.stdout.rpartition("\n")
    return int(status), body


def cmdline(host: str, address: str) -> str:
    mac_file, _offset, version, params = HOSTS[host]
    return (
        f"BOOTIF=01-{mac_file} ip=dhcp boot=nfs root=/dev/nfs nfsroot={address}:{STORE}/{version}/root,tcp"
        f" diskless.etc_bundle=http://{address}/etc/{host}.cms diskless.etc_key=fw_cfg:opt/io.diskless/etc-key"
        f" console=ttyS0,115200n8 {params}"
    )


# --------------------------------------------------------------------------- HTTP, as iPXE sees it


def test_nginx_runs_with_a_valid_configuration() -> None:
    assert SERVER.service("nginx").is_running
    assert SERVER.service("nginx").is_enabled
    assert SERVER.run("nginx -t").rc == 0


def test_entry_script_chains_to_the_script_of_the_mac(address: str) -> None:
    status, body = get(f"http://{address}/ipxe/boot.ipxe")
    assert status == 200
    assert body.startswith("#!ipxe\n"), body
    assert f"chain --autofree http://{address}/ipxe/${{mac:hexhyp}}.ipxe || goto unknown" in body.splitlines()


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_host_script_boots_its_version_with_its_parameters(address: str, host: str) -> None:
    mac_file, _offset, version, _params = HOSTS[host]
    status, body = get(f"http://{address}/ipxe/{mac_file}.ipxe")
    assert status == 200
    lines = body.splitlines()
    assert lines[0] == "#!ipxe"
    assert f"kernel http://{address}/images/deb/{version}/vmlinuz initrd=initrd.img {cmdline(host, address)}" in lines, body
    assert f"initrd --name initrd.img http://{address}/images/deb/{version}/initrd.img" in lines, body
    assert lines[-1] == "boot"
    others = [params for name, (_m, _o, _v, params) in HOSTS.items() if name != host]
    assert not any(params in body for params in others), body


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_kernel_and_initrd_named_by_the_script_are_served(address: str, host: str) -> None:
    mac_file, _offset, version, _params = HOSTS[host]
    _status, script = get(f"http://{address}/ipxe/{mac_file}.ipxe")
    kernel_url = re.search(r"^kernel (\S+)", script, flags=re.M).group(1)  # type: ignore[union-attr]
    initrd_url = re.search(r"^initrd --name initrd.img (\S+)", script, flags=re.M).group(1)  # type: ignore[union-attr]
    assert get(kernel_url) == (200, f"kernel of {version}\n")
    assert get(initrd_url) == (200, f"initrd of {version}\n")


def test_initrd_readable_by_root_only_in_the_image_is_published_world_readable() -> None:
    """initramfs-tools makes the initrd 0600; nginx (www-data) could not serve it as it is in the image."""
    assert SERVER.file(f"{STORE}/aaaaaaaaaaa1/root/boot/initrd.img-6.1.0-99-amd64").mode == 0o600
    published = SERVER.file(f"{BOOT_ROOT}/images/deb/aaaaaaaaaaa1/initrd.img")
    assert (published.user, published.mode) == ("root", 0o644)


def test_only_versions_in_use_are_published() -> None:
    assert sorted(SERVER.file(f"{BOOT_ROOT}/images/deb").listdir()) == ["aaaaaaaaaaa1", "bbbbbbbbbbb2"]


def test_unknown_mac_has_no_script(address: str) -> None:
    assert get(f"http://{address}/ipxe/52-54-00-c7-42-ff.ipxe")[0] == 404


@pytest.mark.parametrize("path", ["/", "/ipxe/", "/images/deb/", "/pxelinux.cfg/"])
def test_directory_listings_are_refused(address: str, path: str) -> None:
    status, body = get(f"http://{address}{path}")
    assert status in (403, 404), (status, body)
    assert "52-54-00" not in body and "Index of" not in body, body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/ipxe/boot.ipxe", "/images/deb/bbbbbbbbbbb2/vmlinuz"])
def test_only_get_and_head_are_served(address: str, method: str, path: str) -> None:
    assert get(f"http://{address}{path}", method)[0] in (403, 405)
    assert get(f"http://{address}{path}", "HEAD")[0] == 200


@pytest.mark.parametrize("loader", ["undionly.kpxe", "snponly.efi", "pxelinux.0", "ldlinux.c32"])
def test_bootloaders_are_in_the_tftp_root(loader: str) -> None:
    published = SERVER.file(f"{BOOT_ROOT}/{loader}")
    assert published.is_file and published.size > 0 and published.mode == 0o644


# --------------------------------------------------------------------------- pxelinux (legacy path)


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_pxelinux_menu_of_the_mac_has_the_same_command_line(address: str, host: str) -> None:
    mac_file, _offset, version, _params = HOSTS[host]
    menu = SERVER.file(f"{BOOT_ROOT}/pxelinux.cfg/01-{mac_file}").content_string
    lines = [line.strip() for line in menu.splitlines()]
    assert f"KERNEL images/deb/{version}/vmlinuz" in lines
    assert f"INITRD images/deb/{version}/initrd.img" in lines
    assert f"APPEND {cmdline(host, address)}" in lines


# --------------------------------------------------------------------------- each host's /etc


def etc(host: str, name: str) -> Any:
    return SERVER.file(f"{HOSTS_ROOT}/{host}/etc/{name}")


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_etc_has_the_hosts_name_and_every_diskless_host(interface: ipaddress.IPv4Interface, address: str, host: str) -> None:
    assert etc(host, "hostname").content_string == f"{host}\n"
    hosts = etc(host, "hosts").content_string
    for name in HOSTS:
        assert f"{host_ip(interface, name)}\t{name}.molecule.test {name}" in hosts.splitlines(), hosts
    assert f"{address}\tboot.molecule.test" in hosts.splitlines()
    assert f"nameserver {address}" in etc(host, "resolv.conf").content_string.splitlines()


def test_each_host_has_its_own_machine_id_and_host_keys() -> None:
    machine_ids = {host: etc(host, "machine-id").content_string.strip() for host in HOSTS}
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in machine_ids.values()), machine_ids
    assert len(set(machine_ids.values())) == len(HOSTS)
    keys = {host: etc(host, "ssh/ssh_host_ed25519_key.pub").content_string for host in HOSTS}
    assert len(set(keys.values())) == len(HOSTS)
    for host in HOSTS:
        private = etc(host, "ssh/ssh_host_ed25519_key")
        assert (private.user, private.mode) == ("root", 0o600)
    # the shared image stays without identity
    assert SERVER.file(f"{STORE}/bbbbbbbbbbb2/root/etc/machine-id").size == 0
    assert not SERVER.file(f"{STORE}/bbbbbbbbbbb2/root/etc/ssh/ssh_host_ed25519_key").exists


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_root_password_only_in_the_hosts_own_shadow(host: str) -> None:
    shadow = etc(host, "shadow")
    assert shadow.mode == 0o640
    assert shadow.content_string.splitlines()[0].startswith(f"root:{PASSWORD_HASH}:")
    assert SERVER.file(f"{STORE}/bbbbbbbbbbb2/root/etc/shadow").content_string.startswith("root:*:")


def test_extra_etc_files_for_every_host_and_for_one_host() -> None:
    for host in HOSTS:
        assert etc(host, "motd").content_string == "Diskless host of the molecule datacenter\n"
    own = etc("node-b", "motd.d/node-b")
    assert (own.content_string, own.mode) == ("node-b only\n", 0o600)
    assert not etc("node-a", "motd.d/node-b").exists


def test_a_change_written_into_a_hosts_etc_survives_the_next_run() -> None:
    assert etc("node-a", "node-a.conf").content_string == "written by node-a\n"
    assert "PermitRootLogin prohibit-password" in etc("node-a", "ssh/sshd_config").content_string.splitlines()


def test_machine_id_and_host_key_are_made_once() -> None:
    assert etc("node-a", "machine-id").content_string == SERVER.file("/root/node-a-before-machine-id").content_string
    before = SERVER.file("/root/node-a-before-ssh_host_ed25519_key.pub").content_string
    assert etc("node-a", "ssh/ssh_host_ed25519_key.pub").content_string == before


# --------------------------------------------------------------------------- what the NFS server is told to export


def test_exports_every_kept_version_read_only_and_no_hosts_etc(interface: ipaddress.IPv4Interface) -> None:
    """Also the version nobody boots now: a running host stays on the version it booted until it reboots.

    No host's /etc is exported: with the sealed delivery it reaches its host only in its bundle.
    """
    exports = {export["path"]: export["clients"] for export in json.loads(SERVER.file("/root/netboot_nfs_exports.json").content_string)}
    subnet = str(interface.network)
    expected = {f"{STORE}/{version}/root": [{"address": subnet, "access": "ro"}] for version in VERSIONS}
    assert exports == expected


# --------------------------------------------------------------------------- each host's sealed /etc

KEY_ID = b"diskless-etc".hex()


def open_bundle(url: str, key_path: str) -> Any:
    """Fetch the bundle over HTTP as the host does and open it with the key in KEY_PATH; the listing, or the failure."""
    script = (
        'set -e; d=$(mktemp -d); trap \'rm -rf "$d"\' EXIT; curl --silent --fail --output "$d/b" ' + shlex.quote(url) + "; "
        'openssl cms -decrypt -binary -inform DER -secretkey "$(cat '
        + shlex.quote(key_path)
        + ')" -secretkeyid '
        + KEY_ID
        + ' -in "$d/b" -out "$d/t"; tar -tvf "$d/t"; tar -xOf "$d/t" ./hostname'
    )
    return SERVER.run(f"bash -c {shlex.quote(script)}")


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_each_host_has_a_private_key_and_a_bundle_only_it_opens(address: str, host: str) -> None:
    key = SERVER.file(f"{HOSTS_ROOT}/{host}/etc-key")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert re.fullmatch(r"[0-9a-f]{64}\n", key.content_string)
    assert SERVER.file(f"{HOSTS_ROOT}/{host}").mode == 0o700
    opened = open_bundle(f"http://{address}/etc/{host}.cms", f"{HOSTS_ROOT}/{host}/etc-key")
    assert opened.rc == 0, opened.stderr
    assert opened.stdout.rstrip().endswith(host)
    assert "./ssh/ssh_host_ed25519_key" in opened.stdout and "./shadow" in opened.stdout
    other = sorted(set(HOSTS) - {host})[0]
    assert open_bundle(f"http://{address}/etc/{host}.cms", f"{HOSTS_ROOT}/{other}/etc-key").rc != 0, "another host's key opened it"


def test_the_bundle_holds_no_secret_in_clear_and_has_the_side_effects_change(address: str) -> None:
    private = etc("node-a", "ssh/ssh_host_ed25519_key").content_string.strip().splitlines()[1]
    fetched = SERVER.run(f"curl --silent --fail --output /root/node-a.cms http://{address}/etc/node-a.cms")
    assert fetched.rc == 0, fetched.stderr
    for secret in (private, PASSWORD_HASH, "written by node-a"):
        assert SERVER.run(f"grep -c -a -F -e {shlex.quote(secret)} /root/node-a.cms").stdout.strip() == "0", secret
    listing = open_bundle(f"http://{address}/etc/node-a.cms", f"{HOSTS_ROOT}/node-a/etc-key").stdout
    assert "./node-a.conf" in listing, "the side effect sealed node-a's /etc again"
