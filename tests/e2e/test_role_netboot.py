"""Role netboot against fake images on localhost: host resolution, boot scripts, each host's /etc, checks.

Fast (no QEMU, nothing installed on this machine): the role's preflight, boot configuration, /etc and
exports steps run on localhost against a temporary image store holding small fake images (busybox as
their shell, so the role's in-image kernel lookup runs for real under chroot). Installing packages,
publishing boot files and nginx are exercised by the end-to-end test.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.playbook import run_play

HASH = "$6$salt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghijklmnopqr"
V1, V2, V3 = "aaaaaaaaaaa1", "bbbbbbbbbbb2", "ccccccccccc3"
HOSTS: list[dict[str, Any]] = [
    {"name": "node1", "mac": "52:54:00:AA:00:01", "ip": "10.42.65.11", "boot_image": "deb", "kernel_params": "intel_iommu=on iommu=pt", "tags": ["diskless"]},
    {"name": "node2", "mac": "52:54:00:aa:00:02", "ip": "10.42.65.12", "boot_image": f"deb@{V1}", "etc_files": [{"path": "motd.d/lab", "content": "hi\n"}]},
]


def busybox_root(root: Path) -> None:
    """Just enough of a system for `chroot ROOT /bin/sh -c ...` with readlink, ls and tail."""
    busybox = shutil.which("busybox")
    assert busybox, "busybox is needed on this machine for the fake images"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(busybox, root / "bin" / "busybox")
    for applet in ("sh", "readlink", "ls", "tail"):
        (root / "bin" / applet).symlink_to("busybox")
    ldd = subprocess.run(["ldd", busybox], capture_output=True, text=True, check=True).stdout
    for library in re.findall(r"(/\S+\.so[.\d]*)", ldd):
        target = root / library.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(library).resolve(), target)


def fake_image(store: Path, image: str, version: str, *, kernel: bool = True) -> Path:
    directory = store / image / version
    root = directory / "root"
    busybox_root(root)
    (root / "boot").mkdir()
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "ssh" / "sshd_config").write_text("# sshd\n")
    (root / "etc" / "shadow").write_text("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    (root / "etc" / "machine-id").write_text("")
    (root / "etc" / "hostname").write_text("localhost\n")
    if kernel:
        (root / "boot" / "vmlinuz-6.1.0-9-amd64").write_text("kernel\n")
        (root / "boot" / "initrd.img-6.1.0-9-amd64").write_text("initrd\n")
        (root / "vmlinuz").symlink_to("boot/vmlinuz-6.1.0-9-amd64")
        (root / "initrd.img").symlink_to("boot/initrd.img-6.1.0-9-amd64")
    (directory / "recipe.json").write_text(json.dumps({"version": version}))
    return root


def netboot_tasks(tmp_path: Path, hosts: list[dict[str, Any]], **params: Any) -> list[dict[str, Any]]:
    role_vars = {
        "netboot_server": "10.42.65.2",
        "netboot_subnet": "10.42.65.0/24",
        "netboot_image_store": str(tmp_path / "images"),
        "netboot_root": str(tmp_path / "boot"),
        "netboot_hosts_root": str(tmp_path / "hosts"),
        "netboot_default_image": "deb",
        "netboot_domain": "lab.test",
        "netboot_hosts": hosts,
        "netboot_root_password_hash": HASH,
        **params,
    }
    include = [
        {"name": f"netboot {step}", "ansible.builtin.include_role": {"name": "diskless.datacenter.netboot", "tasks_from": step}, "vars": role_vars}
        for step in ("preflight", "hosts", "etc", *(("seal",) if role_vars.get("netboot_etc_delivery", "sealed") == "sealed" else ()), "exports")
    ]
    return [*include, {"name": "show exports", "ansible.builtin.debug": {"var": "netboot_nfs_exports"}}]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Three versions of image `deb` (current -> V2, V3 used by nobody), both hosts rendered twice; returns (dir, first, second)."""
    tmp_path = tmp_path_factory.mktemp("netboot")
    store = tmp_path / "images"
    fake_image(store, "deb", V1)
    fake_image(store, "deb", V2)
    fake_image(store, "deb", V3)
    (store / "deb" / "current").symlink_to(V2)
    first = run_play(tmp_path, netboot_tasks(tmp_path, HOSTS))
    assert not first["failed"], first["msg"]
    second = run_play(tmp_path, netboot_tasks(tmp_path, HOSTS))
    assert not second["failed"], second["msg"]
    return tmp_path, first, second


def test_ipxe_script_per_mac_with_the_hosts_parameters(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    tmp_path = lab[0]
    script = (tmp_path / "boot" / "ipxe" / "52-54-00-aa-00-01.ipxe").read_text()
    assert script.startswith("#!ipxe\n")
    kernel = next(line for line in script.splitlines() if line.startswith("kernel "))
    args = kernel.split()
    assert args[1] == f"http://10.42.65.2/images/deb/{V2}/vmlinuz"  # `deb` = its current version now
    assert f"nfsroot=10.42.65.2:{tmp_path}/images/deb/{V2}/root,tcp" in args
    assert "diskless.etc_bundle=http://10.42.65.2/etc/node1.cms" in args
    assert "diskless.etc_key=fw_cfg:opt/io.diskless/etc-key" in args
    assert not any(arg.startswith("diskless.etc=") for arg in args)
    assert {"BOOTIF=01-52-54-00-aa-00-01", "ip=dhcp", "boot=nfs", "intel_iommu=on", "iommu=pt", "console=ttyS0,115200n8"} <= set(args)
    assert f"initrd --name initrd.img http://10.42.65.2/images/deb/{V2}/initrd.img" in script
    other = (tmp_path / "boot" / "ipxe" / "52-54-00-aa-00-02.ipxe").read_text()
    assert f"/images/deb/{V1}/vmlinuz" in other  # pinned version
    assert "intel_iommu=on" not in other


def test_ipxe_entry_script_chains_by_mac(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    tmp_path = lab[0]
    entry = (tmp_path / "boot" / "ipxe" / "boot.ipxe").read_text()
    assert "chain --autofree http://10.42.65.2/ipxe/${mac:hexhyp}.ipxe || goto unknown" in entry


def test_pxelinux_menu_carries_the_same_command_line(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    tmp_path = lab[0]
    menu = (tmp_path / "boot" / "pxelinux.cfg" / "01-52-54-00-aa-00-01").read_text()
    script = (tmp_path / "boot" / "ipxe" / "52-54-00-aa-00-01.ipxe").read_text()
    append = next(line.strip() for line in menu.splitlines() if line.strip().startswith("APPEND ")).removeprefix("APPEND ")
    kernel = next(line for line in script.splitlines() if line.startswith("kernel "))
    assert kernel.endswith(append)
    assert f"KERNEL images/deb/{V2}/vmlinuz" in menu and f"INITRD images/deb/{V2}/initrd.img" in menu


def test_each_host_gets_its_own_etc(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    tmp_path = lab[0]
    etc1, etc2 = tmp_path / "hosts" / "node1" / "etc", tmp_path / "hosts" / "node2" / "etc"
    assert (etc1 / "hostname").read_text() == "node1\n"
    assert "10.42.65.11\tnode1.lab.test node1" in (etc1 / "hosts").read_text()
    assert "10.42.65.12\tnode2.lab.test node2" in (etc1 / "hosts").read_text()
    assert "nameserver 10.42.65.2" in (etc1 / "resolv.conf").read_text()
    ids = {(etc / "machine-id").read_text().strip() for etc in (etc1, etc2)}
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert (etc1 / "shadow").read_text().splitlines()[0] == f"root:{HASH}:19000:0:99999:7:::"
    assert (etc2 / "motd.d" / "lab").read_text() == "hi\n"
    assert not (etc1 / "motd.d").exists()
    for etc in (etc1, etc2):
        keys = sorted(p.name for p in (etc / "ssh").glob("ssh_host_*_key"))
        assert "ssh_host_ed25519_key" in keys
    assert (etc1 / "ssh" / "ssh_host_ed25519_key").read_bytes() != (etc2 / "ssh" / "ssh_host_ed25519_key").read_bytes()
    assert (tmp_path / "hosts" / "node1").stat().st_mode & 0o777 == 0o700


def test_exports_for_the_nfs_server(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Every kept version stays exported (a running host keeps its root until it reboots into another)."""
    tmp_path, first = lab[0], lab[1]
    exports = dict(first["tasks"])["show exports"]["netboot_nfs_exports"]
    assert exports == [
        {"path": f"{tmp_path}/images/deb/{V1}/root", "clients": [{"address": "10.42.65.0/24", "access": "ro"}]},
        {"path": f"{tmp_path}/images/deb/{V2}/root", "clients": [{"address": "10.42.65.0/24", "access": "ro"}]},
        {"path": f"{tmp_path}/images/deb/{V3}/root", "clients": [{"address": "10.42.65.0/24", "access": "ro"}]},
    ], "sealed delivery: no host's /etc is exported"


def test_each_host_gets_its_etc_sealed_with_its_own_key(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    tmp_path = lab[0]
    keys = {host: (tmp_path / "hosts" / host / "etc-key").read_text().strip() for host in ("node1", "node2")}
    assert len(set(keys.values())) == 2
    for host, key in keys.items():
        bundle = tmp_path / "boot" / "etc" / f"{host}.cms"
        assert b"sshd" not in bundle.read_bytes() and HASH.encode() not in bundle.read_bytes()
        command = ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-secretkeyid", b"diskless-etc".hex(), "-in", str(bundle)]
        opened = subprocess.run([*command, "-secretkey", key], capture_output=True, check=False)
        assert opened.returncode == 0, opened.stderr
        with tarfile.open(fileobj=io.BytesIO(opened.stdout)) as tar:
            hostname = tar.extractfile("./hostname")
            assert hostname is not None and hostname.read() == f"{host}\n".encode()
        other = next(value for name, value in keys.items() if name != host)
        assert subprocess.run([*command, "-secretkey", other], capture_output=True, check=False).returncode != 0


def test_nfs_delivery_exports_each_etc_to_its_host_and_seals_nothing(tmp_path: Path) -> None:
    store = tmp_path / "images"
    fake_image(store, "deb", V1)
    (store / "deb" / "current").symlink_to(V1)
    result = run_play(tmp_path, netboot_tasks(tmp_path, HOSTS, netboot_etc_delivery="nfs"))
    assert not result["failed"], result["msg"]
    exports = dict(result["tasks"])["show exports"]["netboot_nfs_exports"]
    assert {"path": f"{tmp_path}/hosts/node1/etc", "clients": [{"address": "10.42.65.11", "access": "rw"}]} in exports
    script = (tmp_path / "boot" / "ipxe" / "52-54-00-aa-00-01.ipxe").read_text()
    assert f"diskless.etc=10.42.65.2:{tmp_path}/hosts/node1/etc" in script and "diskless.etc_bundle" not in script
    assert not (tmp_path / "boot" / "etc").exists() and not (tmp_path / "hosts" / "node1" / "etc-key").exists()


def test_second_run_changes_nothing_and_keeps_the_hosts_etc(lab: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    second = lab[2]
    assert second["changed"] == 0


def test_bad_host_input_is_reported_at_once_before_any_change(tmp_path: Path) -> None:
    hosts = [
        {"name": "ok", "mac": "52:54:00:aa:00:01", "ip": "10.42.65.11"},
        {"name": "unreserved", "mac": "52:54:00:aa:00:09", "ip": "10.42.65.19"},
        {"name": "badmac", "mac": "52:54:00:aa:00", "ip": "10.42.66.5", "kernel_params": "a=1; reboot"},
        {"name": "dup", "mac": "52:54:00:aa:00:03", "ip": "10.42.65.11", "boot_image": "deb@nothex"},
    ]
    result = run_play(tmp_path, netboot_tasks(tmp_path, hosts, netboot_reserved_macs=["52:54:00:aa:00:01", "52:54:00:aa:00:03"]))
    assert result["failed"]
    for needle in [
        '("unreserved"): mac=52:54:00:aa:00:09: has no DHCP reservation',
        '("badmac"): mac=52:54:00:aa:00: not a MAC address',
        '("badmac"): ip=10.42.66.5: outside the boot subnet 10.42.65.0/24',
        '("badmac"): kernel_params="a=1; reboot": characters not allowed',
        '("dup"): boot_image=deb@nothex',
        "netboot_hosts: ip=10.42.65.11: used by more than one host",
    ]:
        assert needle in result["msg"]
    assert not (tmp_path / "boot").exists() and not (tmp_path / "hosts").exists()


def test_images_that_cannot_boot_are_reported_before_any_change(tmp_path: Path) -> None:
    store = tmp_path / "images"
    fake_image(store, "deb", V1)
    (store / "deb" / "current").symlink_to(V1)
    fake_image(store, "nokernel", V1, kernel=False)
    (store / "nokernel" / "current").symlink_to(V1)
    (store / "unpublished").mkdir()
    hosts = [
        {"name": "a", "mac": "52:54:00:aa:00:01", "ip": "10.42.65.11", "boot_image": "deb@cccccccccccc"},
        {"name": "b", "mac": "52:54:00:aa:00:02", "ip": "10.42.65.12", "boot_image": "nokernel"},
        {"name": "c", "mac": "52:54:00:aa:00:03", "ip": "10.42.65.13", "boot_image": "unpublished"},
        {"name": "d", "mac": "52:54:00:aa:00:04", "ip": "10.42.65.14", "boot_image": "default"},
    ]
    result = run_play(tmp_path, netboot_tasks(tmp_path, hosts))
    assert result["failed"]
    assert "3 host(s) cannot boot" in result["msg"]
    assert "a: boot_image=deb@cccccccccccc: unknown image version deb/cccccccccccc" in result["msg"]
    assert f"b: boot_image=nokernel: image nokernel/{V1} has no kernel in /boot" in result["msg"]
    assert "c: boot_image=unpublished: no published version of image unpublished" in result["msg"]
    assert not (tmp_path / "boot").exists() and not (tmp_path / "hosts").exists()
