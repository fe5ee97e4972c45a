"""Verify the nfs_server role: NFS-Ganesha really serving, asked with the NFS tools; the kernel server's exports read back.

NFS-Ganesha runs in a privileged container; `showmount -e` and `rpcinfo -p` ask it over RPC what it
exports, to whom, and on which ports. The kernel NFS server cannot run on this machine (no nfsd), so
its exports file is read back by nfs-utils' own `exportfs` (/var/lib/nfs/etab holds what it parsed).
No client mount here: this machine's kernel has no NFS client (tests/e2e/test_boot.py mounts from QEMU guests).
"""

from __future__ import annotations

import hashlib
import re

import pytest
import testinfra

GANESHA = testinfra.get_host("podman://dc-molecule-nfs-ganesha")
KERNEL = testinfra.get_host("podman://dc-molecule-nfs-kernel")
IMAGE = "/srv/diskless/images/deb/0123456789ab/root"
NODE1 = "/srv/diskless/hosts/node1/etc"
NODE2 = "/srv/diskless/hosts/node2/etc"
# path -> {client: (access, root squashed)}, as converge.yml asks
EXPORTS: dict[str, dict[str, tuple[str, bool]]] = {
    IMAGE: {"192.0.2.0/24": ("ro", False)},
    NODE1: {"192.0.2.11": ("rw", False)},
    NODE2: {"192.0.2.12": ("rw", True)},
}
MOUNTD_PORT = 20048


def export_id(path: str) -> int:
    """Documented derivation: the first 4 hex digits of the path's SHA-1 (so IDs never depend on list order)."""
    return int(hashlib.sha1(path.encode()).hexdigest()[:4], 16)


# --------------------------------------------------------------------------- NFS-Ganesha


def test_ganesha_and_rpcbind_run() -> None:
    for unit in ("rpcbind", "nfs-ganesha"):
        assert GANESHA.service(unit).is_running, unit
        assert GANESHA.service(unit).is_enabled, unit
    assert GANESHA.process.filter(comm="ganesha.nfsd")


@pytest.fixture(scope="module")
def registrations() -> set[tuple[int, int, str, int]]:
    """`rpcinfo -p`: (program, version, protocol, port) registered with rpcbind."""
    table = GANESHA.check_output("rpcinfo -p 127.0.0.1")
    return {(int(p), int(v), proto, int(port)) for p, v, proto, port in re.findall(r"^\s*(\d+)\s+(\d+)\s+(\w+)\s+(\d+)", table, flags=re.M)}


@pytest.mark.parametrize("version", [3, 4])
def test_nfs_versions_3_and_4_on_2049(registrations: set[tuple[int, int, str, int]], version: int) -> None:
    assert (100003, version, "tcp", 2049) in registrations, sorted(registrations)


def test_mountd_on_the_fixed_port(registrations: set[tuple[int, int, str, int]]) -> None:
    mountd = {(version, proto, port) for program, version, proto, port in registrations if program == 100005}
    assert (3, "tcp", MOUNTD_PORT) in mountd, mountd
    assert {port for _version, _proto, port in mountd} == {MOUNTD_PORT}, mountd


def showmount(address: str) -> dict[str, set[str]]:
    """`showmount -e` asked from `address` (prepare put the clients' addresses on lo): path -> clients as listed."""
    listing = GANESHA.check_output(f"showmount --no-headers -e {address}")
    return {path: set(clients.split(",")) for path, clients in (line.split() for line in listing.splitlines() if line.strip())}


def as_listed(client: str) -> str:
    return client if "/" in client else f"{client}/32"


# asking client -> the exports it may mount (NFS-Ganesha lists no others)
VISIBLE = {"192.0.2.11": [IMAGE, NODE1], "192.0.2.12": [IMAGE, NODE2], "192.0.2.99": [IMAGE], "198.51.100.7": []}


@pytest.mark.parametrize("client", sorted(VISIBLE))
def test_showmount_lists_the_exports_a_client_may_mount_with_their_clients(client: str) -> None:
    expected = {path: {as_listed(address) for address in EXPORTS[path]} for path in VISIBLE[client]}
    assert showmount(client) == expected


@pytest.fixture(scope="module")
def ganesha_blocks() -> dict[str, str]:
    """The EXPORT blocks of the rendered ganesha.conf, by path."""
    text = GANESHA.file("/etc/ganesha/ganesha.conf").content_string
    blocks = re.findall(r"^EXPORT \{\n(.*?)^\}", text, flags=re.S | re.M)
    return {re.search(r'Path = "([^"]+)";', block).group(1): block for block in blocks}  # type: ignore[union-attr]


def test_ganesha_config_has_stable_export_ids(ganesha_blocks: dict[str, str]) -> None:
    assert sorted(ganesha_blocks) == sorted(EXPORTS)
    for path, block in ganesha_blocks.items():
        assert f"Export_Id = {export_id(path)};" in block, block


@pytest.mark.parametrize("path", sorted(EXPORTS))
def test_ganesha_config_grants_each_client_its_access(ganesha_blocks: dict[str, str], path: str) -> None:
    block = ganesha_blocks[path]
    clients = re.findall(r"CLIENT \{\s*Clients = (\S+);\s*Access_Type = (\w+);\s*Squash = (\w+);\s*\}", block)
    expected = [(client, access.upper(), "Root_Squash" if squash else "No_Root_Squash") for client, (access, squash) in EXPORTS[path].items()]
    assert clients == expected, block
    assert re.search(r"^\tAccess_Type = None;", block, flags=re.M), "an export must refuse everyone it does not name"


# --------------------------------------------------------------------------- kernel NFS server (rendered, parsed by exportfs)


def test_kernel_exports_file_has_one_line_per_export() -> None:
    text = KERNEL.file("/etc/exports.d/diskless.exports").content_string
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    paths = [re.match(r'"([^"]+)" ', line).group(1) for line in lines]  # type: ignore[union-attr]
    assert paths == sorted(EXPORTS), text


@pytest.fixture(scope="module")
def etab() -> dict[tuple[str, str], set[str]]:
    """/var/lib/nfs/etab, written by the handler's `exportfs -ra`: (path, client) -> options as nfs-utils parsed them."""
    text = KERNEL.file("/var/lib/nfs/etab").content_string
    entries = re.findall(r"^(\S+)\t(\S+)\((\S+)\)$", text, flags=re.M)
    return {(path, client): set(options.split(",")) for path, client, options in entries}


def test_exportfs_parsed_every_export_with_its_access(etab: dict[tuple[str, str], set[str]]) -> None:
    assert set(etab) == {(path, client) for path, clients in EXPORTS.items() for client in clients}
    for path, clients in EXPORTS.items():
        for client, (access, squash) in clients.items():
            options = etab[(path, client)]
            assert access in options and ("rw" if access == "ro" else "ro") not in options, options
            assert ("root_squash" if squash else "no_root_squash") in options, options
            assert f"fsid={export_id(path)}" in options, options
