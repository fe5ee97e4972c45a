"""Verify the initramfs role on the lab's real image: what update-initramfs put into the initrd.

The initrd is listed and unpacked with the image's own initramfs-tools (lsinitramfs, unmkinitramfs
under chroot), so the checks read what the kernel will get at boot, not the role's source files.
The image comes from the shared cache through an overlay (prepare.yml): the regenerated initrd
lies in the overlay's upper layer, and the cache itself is mounted read-only.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pytest
import testinfra

SERVER = testinfra.get_host("podman://dc-molecule-initramfs")
IMAGES = "/srv/diskless/images"
IMAGE = "debian-bookworm"
UPPER = "/srv/overlay/upper"
CACHE_MOUNT = "/run/host-cache"


@dataclass(frozen=True)
class Image:
    version: str
    root: str
    kernel: str  # kernel release, e.g. 6.1.0-50-amd64

    @property
    def initrd(self) -> str:
        return f"/boot/initrd.img-{self.kernel}"


@pytest.fixture(scope="module")
def image() -> Image:
    version = SERVER.file(f"{IMAGES}/{IMAGE}/current").linked_to.rsplit("/", 1)[-1]
    root = f"{IMAGES}/{IMAGE}/{version}/root"
    kernels = [name.removeprefix("vmlinuz-") for name in SERVER.file(f"{root}/boot").listdir() if name.startswith("vmlinuz-")]
    assert len(kernels) == 1, kernels
    return Image(version=version, root=root, kernel=kernels[0])


def in_image(image: Image, command: str) -> str:
    return SERVER.check_output(f"chroot {image.root} /bin/sh -c {shlex.quote(command)}")


@pytest.fixture(scope="module")
def listing(image: Image) -> set[str]:
    return set(in_image(image, f"lsinitramfs {image.initrd}").splitlines())


@pytest.fixture(scope="module")
def unpacked(image: Image) -> dict[str, str]:
    """The files of the initrd the checks read, as unmkinitramfs extracts them (in a temporary directory of the image)."""
    names = [
        "conf/conf.d/diskless",
        "conf/diskless.conf",
        "scripts/nfs-bottom/diskless",
        "scripts/nfs-bottom/ORDER",
        "scripts/init-premount/diskless-link",
        "scripts/init-premount/ORDER",
        "scripts/diskless-lib",
    ]
    prints = "".join(f" printf '@@@ %s\\n' {name}; cat {name};" for name in names)
    # a marker after the last file too: the command's output loses its trailing newlines
    script = f'set -e; d=$(mktemp -d); trap \'rm -rf "$d"\' EXIT; unmkinitramfs {image.initrd} "$d"; cd "$d"; [ -d main ] && cd main;{prints} printf \'@@@ \''
    files: dict[str, str] = {}
    for chunk in in_image(image, script).split("@@@ ")[1:-1]:
        name, _sep, content = chunk.partition("\n")
        files[name] = content
    assert sorted(files) == sorted(names)
    return files


def test_initrd_was_regenerated_into_the_overlay_not_the_cache(image: Image) -> None:
    regenerated = SERVER.file(f"{UPPER}/{IMAGE}/{image.version}/root{image.initrd}")
    assert regenerated.is_file, "update-initramfs did not write a new initrd"
    assert "ro" in SERVER.check_output(f"findmnt --noheadings --output OPTIONS {CACHE_MOUNT}").split(",")


def test_configuration_record_matches_the_new_initrd(image: Image) -> None:
    record = SERVER.file(f"{UPPER}/{IMAGE}/{image.version}/root/etc/diskless/initramfs.built")
    assert record.is_file
    assert len(record.content_string.strip()) == 16


@pytest.mark.parametrize(
    "member",
    [
        "scripts/nfs-bottom/diskless",  # the role's nfs-bottom script
        "scripts/init-premount/diskless-link",  # the wait for the link before DHCP
        "sbin/ip",  # which sets the link up (busybox's applet)
        "scripts/diskless-lib",  # the library the role's hook copies in
        "conf/diskless.conf",  # and its defaults
        "conf/conf.d/diskless",
        "scripts/nfs",  # initramfs-tools' own NFS root support (BOOT=nfs)
        "bin/nfsmount",  # klibc's NFSv2/v3 mount, which scripts/nfs uses
        "bin/ipconfig",  # ip=dhcp
        "bin/openssl",  # the sealed /etc: decryption (initramfs_etc_sealed)
        "lib/x86_64-linux-gnu/libcrypto.so.3",  # which copy_exec brings along
        "bin/wget",  # the bundle's download (busybox applet)
        "bin/tar",  # its extraction (busybox applet)
    ],
)
def test_initrd_holds_the_diskless_boot(listing: set[str], member: str) -> None:
    assert member in listing or f"usr/{member}" in listing  # bin/ may be usr/bin/ behind a link (merged /usr)


def _holds(image: Image, listing: set[str], module: str) -> bool:
    base = f"usr/lib/modules/{image.kernel}/kernel/{module}"
    return base in listing or f"{base}.xz" in listing or f"{base}.zst" in listing


@pytest.mark.parametrize(
    "module",
    [
        "fs/overlayfs/overlay.ko",
        "drivers/firmware/qemu_fw_cfg.ko",
        "fs/nfs/nfs.ko",
        "fs/nfs/nfsv3.ko",
        "drivers/net/virtio_net.ko",
        "drivers/net/ethernet/intel/e1000/e1000.ko",
    ],
)
def test_initrd_holds_overlay_nfs_and_nic_modules(image: Image, listing: set[str], module: str) -> None:
    assert _holds(image, listing, module), sorted(name for name in listing if name.endswith(".ko"))[:20]


@pytest.mark.parametrize("module", ["fs/btrfs/btrfs.ko", "fs/xfs/xfs.ko", "drivers/usb/host/xhci-hcd.ko", "drivers/net/ethernet/qlogic/qed/qed.ko"])
def test_initrd_leaves_out_what_a_diskless_boot_does_not_need(image: Image, listing: set[str], module: str) -> None:
    """MODULES=list: no disk filesystems, no USB, no NIC driver outside initramfs_modules."""
    assert not _holds(image, listing, module)


def test_initramfs_tools_configuration_is_nfs_with_network_modules(unpacked: dict[str, str]) -> None:
    settings = dict(line.split("=", 1) for line in unpacked["conf/conf.d/diskless"].splitlines() if line and not line.startswith("#"))
    assert settings == {"BOOT": "nfs", "MODULES": "list", "COMPRESS": "zstd", "BUSYBOX": "y"}  # busybox: wget, tar of the sealed /etc


def test_diskless_defaults_carry_the_tmpfs_mounts(unpacked: dict[str, str]) -> None:
    settings = dict(line.split("=", 1) for line in unpacked["conf/diskless.conf"].splitlines() if line and not line.startswith("#"))
    assert settings["DISKLESS_OVERLAY"] == "yes"
    assert settings["DISKLESS_TMPFS"].strip("'") == "/var/lib/rancher:size=50%,mode=0700"
    assert settings["DISKLESS_NFSMOUNT"].strip("'") == "nfsmount"
    assert settings["DISKLESS_LINK_WAIT"] == "15"


def test_nfs_bottom_script_runs_after_the_root_is_mounted(image: Image, unpacked: dict[str, str]) -> None:
    assert "/scripts/nfs-bottom/diskless" in unpacked["scripts/nfs-bottom/ORDER"]
    assert unpacked["scripts/nfs-bottom/diskless"] == SERVER.file(f"{image.root}/etc/initramfs-tools/scripts/nfs-bottom/diskless").content_string
    assert unpacked["scripts/diskless-lib"] == SERVER.file(f"{image.root}/usr/share/diskless/initramfs-lib.sh").content_string


def test_link_wait_runs_before_the_network_is_configured(image: Image, unpacked: dict[str, str]) -> None:
    """init-premount runs before scripts/nfs configures the network (ipconfig) for the root."""
    assert "/scripts/init-premount/diskless-link" in unpacked["scripts/init-premount/ORDER"]
    installed = SERVER.file(f"{image.root}/etc/initramfs-tools/scripts/init-premount/diskless-link").content_string
    assert unpacked["scripts/init-premount/diskless-link"] == installed
