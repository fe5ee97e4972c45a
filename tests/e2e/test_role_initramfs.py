"""Role initramfs without a kernel: files rendered into fake image trees, and the early-boot logic run.

Fast (no QEMU): the role installs its hooks into temporary "images" (with `initramfs_update: false`,
since a fake tree cannot run update-initramfs). The shell library shared by the initramfs-tools script
and the mkinitcpio hook then runs under dash and busybox ash with `mount`, `nfsmount`, `modprobe` and
`mkdir` replaced by recorders, for both families' configurations: the order and arguments of the mounts
are what the real initramfs does (the end-to-end test boots the Debian one for real; Arch is only
rendered and run this way, its mirrors are out of reach here).
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.playbook import role_task, run_play

GENERATORS = {"debian": "usr/sbin/update-initramfs", "arch": "usr/bin/mkinitcpio"}
SHELLS = [["dash"], ["busybox", "ash"]]


def fake_image(root: Path, family: str) -> Path:
    for path in (GENERATORS[family], "usr/bin/zstd", "usr/bin/openssl"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("#!/bin/sh\n")
    return root


def install_task(root: Path, family: str, **params: Any) -> dict[str, Any]:
    return role_task("initramfs", initramfs_image_roots=[str(root)], initramfs_family=family, initramfs_update=False, **params)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Debian and an Arch fake image with the role's files, from one run."""
    tmp_path = tmp_path_factory.mktemp("initramfs")
    roots = {family: fake_image(tmp_path / family, family) for family in GENERATORS}
    tmpfs = [{"path": "/var/lib/rancher", "options": "size=1g,mode=0700"}]
    tasks = [install_task(root, family, initramfs_tmpfs_mounts=tmpfs) for family, root in roots.items()]
    result = run_play(tmp_path, tasks)
    assert not result["failed"], result["msg"]
    return roots


DEBIAN_FILES = {
    "usr/share/diskless/initramfs-lib.sh": 0o644,
    "etc/diskless/initramfs.conf": 0o644,
    "etc/initramfs-tools/conf.d/diskless": 0o644,
    "etc/initramfs-tools/hooks/diskless": 0o755,
    "etc/initramfs-tools/scripts/nfs-bottom/diskless": 0o755,
    "etc/initramfs-tools/scripts/init-premount/diskless-link": 0o755,
}
ARCH_FILES = {
    "usr/share/diskless/initramfs-lib.sh": 0o644,
    "etc/diskless/initramfs.conf": 0o644,
    "etc/initcpio/install/diskless": 0o644,
    "etc/initcpio/hooks/diskless": 0o644,
    "etc/mkinitcpio.conf.d/diskless.conf": 0o644,
}


@pytest.mark.parametrize(("family", "files"), [("debian", DEBIAN_FILES), ("arch", ARCH_FILES)])
def test_files_are_installed_with_their_modes(images: dict[str, Path], family: str, files: dict[str, int]) -> None:
    for path, mode in files.items():
        target = images[family] / path
        assert target.is_file(), path
        assert target.stat().st_mode & 0o777 == mode, path
        assert "Ansible managed" in target.read_text()


@pytest.mark.parametrize(
    ("family", "path", "shell"),
    [
        ("debian", "etc/initramfs-tools/hooks/diskless", "sh"),
        ("debian", "etc/initramfs-tools/scripts/nfs-bottom/diskless", "sh"),
        ("debian", "usr/share/diskless/initramfs-lib.sh", "sh"),
        ("debian", "etc/diskless/initramfs.conf", "sh"),
        ("arch", "etc/initcpio/install/diskless", "bash"),
        ("arch", "etc/initcpio/hooks/diskless", "sh"),
        ("arch", "etc/mkinitcpio.conf.d/diskless.conf", "bash"),
    ],
)
def test_scripts_parse(images: dict[str, Path], family: str, path: str, shell: str) -> None:
    subprocess.run([shell, "-n", str(images[family] / path)], check=True)


def test_debian_configuration(images: dict[str, Path]) -> None:
    conf = (images["debian"] / "etc/initramfs-tools/conf.d/diskless").read_text()
    assert "BOOT=nfs" in conf and "MODULES=list" in conf and "COMPRESS=zstd" in conf
    hook = (images["debian"] / "etc/initramfs-tools/hooks/diskless").read_text()
    assert "manual_add_modules overlay" in hook and "manual_add_modules virtio_net" in hook
    assert "copy_file script /usr/share/diskless/initramfs-lib.sh /scripts/diskless-lib" in hook
    # the sealed /etc (initramfs_etc_sealed, default true): openssl, fw_cfg, busybox mandatory for wget and tar
    assert "copy_exec /usr/bin/openssl" in hook and "manual_add_modules qemu_fw_cfg" in hook and "BUSYBOX=y" in conf
    install = (images["arch"] / "etc/initcpio/install/diskless").read_text()
    assert "add_binary openssl" in install and "add_module qemu_fw_cfg" in install


def test_without_sealed_delivery_nothing_of_it_is_added(tmp_path: Path) -> None:
    root = tmp_path / "debian"
    root.mkdir()
    fake_image(root, "debian")
    (root / "usr/bin/openssl").unlink()  # not needed then
    result = run_play(tmp_path, [install_task(root, "debian", initramfs_etc_sealed=False)])
    assert not result["failed"], result["msg"]
    hook = (root / "etc/initramfs-tools/hooks/diskless").read_text()
    assert "openssl" not in hook and "qemu_fw_cfg" not in hook
    assert "BUSYBOX" not in (root / "etc/initramfs-tools/conf.d/diskless").read_text()


def test_arch_configuration_follows_the_seed_guide(images: dict[str, Path]) -> None:
    conf = (images["arch"] / "etc/mkinitcpio.conf.d/diskless.conf").read_text()
    hooks = next(line for line in conf.splitlines() if line.startswith("HOOKS="))
    assert hooks == "HOOKS=(base udev modconf net keyboard diskless)"  # net before ours, ours last, no autodetect
    assert "overlay" in next(line for line in conf.splitlines() if line.startswith("MODULES="))
    hook = (images["arch"] / "etc/initcpio/hooks/diskless").read_text()
    assert "run_latehook()" in hook and "diskless_setup /new_root" in hook


def test_second_run_changes_nothing(images: dict[str, Path], tmp_path: Path) -> None:
    tmpfs = [{"path": "/var/lib/rancher", "options": "size=1g,mode=0700"}]
    result = run_play(tmp_path, [install_task(images["debian"], "debian", initramfs_tmpfs_mounts=tmpfs)])
    assert not result["failed"], result["msg"]
    assert result["changed"] == 0


def test_bad_input_is_reported_at_once_before_any_change(tmp_path: Path) -> None:
    not_an_image = tmp_path / "empty"
    not_an_image.mkdir()
    result = run_play(
        tmp_path,
        [
            install_task(
                not_an_image,
                "debian",
                initramfs_overlay_size="lots",
                initramfs_link_wait=301,
                initramfs_tmpfs_mounts=[{"path": "/etc"}, {"path": "relative"}, {"path": "/ok", "options": "size=1g mode=0700"}],
            )
        ],
    )
    assert result["failed"]
    for needle in ["no usr/sbin/update-initramfs in it", "initramfs_overlay_size=lots", "initramfs_link_wait=301: whole seconds from 0 to 300",
                   "initramfs_tmpfs_mounts[0]: path=/etc", "initramfs_tmpfs_mounts[1]: path=relative",
                   "initramfs_tmpfs_mounts[2]: options=size=1g mode=0700",
                   "initramfs_etc_sealed=true: " + str(not_an_image) + "/usr/bin/openssl is missing in the image"]:  # fmt: skip
        assert needle in result["msg"]
    assert list(not_an_image.iterdir()) == []


# ---- the early-boot logic, run with recorders instead of mount & co ---------------------------
RECORDERS = """
log() { printf '%s\\n' "$*" >> "$RECORD"; }
mount() { log "mount $*"; }
nfsmount() { log "nfsmount $*"; }
modprobe() { log "modprobe $*"; }
mkdir() { log "mkdir $*"; }
"""


def run_lib(image: Path, tmp_path: Path, shell: list[str], cmdline: str, newroot: str) -> tuple[int, list[str], str]:
    record = tmp_path / "record"
    record.write_text("")
    script = "\n".join(
        [
            RECORDERS,
            f". {shlex.quote(str(image / 'etc/diskless/initramfs.conf'))}",
            f". {shlex.quote(str(image / 'usr/share/diskless/initramfs-lib.sh'))}",
            f"diskless_parse_cmdline {shlex.quote(cmdline)}",
            f"diskless_setup {shlex.quote(newroot)}",
        ]
    )
    proc = subprocess.run([*shell, "-c", script], capture_output=True, text=True, env={"RECORD": str(record), "PATH": "/usr/bin:/bin"}, check=False)
    return proc.returncode, record.read_text().splitlines(), proc.stderr


NFSROOT = "nfsroot=10.0.0.2:/srv/diskless/images/deb/0123456789ab/root,tcp"


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
def test_debian_boot_sequence(images: dict[str, Path], tmp_path: Path, shell: list[str]) -> None:
    cmdline = f"ip=dhcp boot=nfs {NFSROOT} diskless.etc=10.0.0.2:/srv/diskless/hosts/n1/etc diskless.tmpfs=/var/lib/extra:size=64m quiet"
    status, calls, stderr = run_lib(images["debian"], tmp_path, shell, cmdline, "/root")
    assert status == 0, stderr
    assert calls == [
        "modprobe overlay",
        "mkdir -p /run/diskless/lower /run/diskless/rw",
        "mount -n -o move /root /run/diskless/lower",
        "mount -n -t tmpfs -o size=50%,mode=0755 diskless-rw /run/diskless/rw",
        "mkdir -p /run/diskless/rw/upper /run/diskless/rw/work",
        "mount -n -t overlay -o lowerdir=/run/diskless/lower,upperdir=/run/diskless/rw/upper,workdir=/run/diskless/rw/work diskless-root /root",
        "nfsmount -o nolock,tcp,rw 10.0.0.2:/srv/diskless/hosts/n1/etc /root/etc",
        "mkdir -p /root/var/lib/rancher",
        "mount -n -t tmpfs -o size=1g,mode=0700 diskless-tmpfs /root/var/lib/rancher",
        "mkdir -p /root/var/lib/extra",
        "mount -n -t tmpfs -o size=64m diskless-tmpfs /root/var/lib/extra",
    ]


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
def test_arch_boot_sequence_and_overrides(images: dict[str, Path], tmp_path: Path, shell: list[str]) -> None:
    """Arch: /new_root; a path without server takes nfsroot's; kernel parameters override the defaults."""
    cmdline = f"{NFSROOT} diskless.etc=/srv/diskless/hosts/n2/etc diskless.overlay=no diskless.etc_options=nolock,udp"
    status, calls, stderr = run_lib(images["arch"], tmp_path, shell, cmdline, "/new_root")
    assert status == 0, stderr
    assert calls == [
        "nfsmount -o nolock,udp,rw 10.0.0.2:/srv/diskless/hosts/n2/etc /new_root/etc",
        "mkdir -p /new_root/var/lib/rancher",
        "mount -n -t tmpfs -o size=1g,mode=0700 diskless-tmpfs /new_root/var/lib/rancher",
    ]


def test_a_relative_tmpfs_path_fails_the_boot_with_a_message(images: dict[str, Path], tmp_path: Path) -> None:
    status, _calls, stderr = run_lib(images["debian"], tmp_path, ["dash"], f"{NFSROOT} diskless.overlay=no diskless.tmpfs=var/x", "/root")
    assert status != 0
    assert "diskless: tmpfs mounts" in stderr


# ---- the wait for the boot interface's carrier, on real veth links in network namespaces -----------
@dataclass
class VethPair:
    """`guest` (where the library runs) and `peer`, each end in its own namespace, both down."""

    guest_ns: str
    peer_ns: str
    guest_mac: str

    def peer_up(self) -> None:
        subprocess.run(["ip", "-n", self.peer_ns, "link", "set", "peer0", "up"], check=True)

    def guest_link(self, name: str = "boot0") -> dict[str, Any]:
        out = subprocess.run(["ip", "-n", self.guest_ns, "-j", "link", "show", name], capture_output=True, text=True, check=True).stdout
        links: list[dict[str, Any]] = json.loads(out)
        return links[0]


@pytest.fixture
def veth() -> Iterator[VethPair]:
    suffix = f"{os.getpid()}-{time.monotonic_ns() % 100000}"
    pair = VethPair(f"dc-init-guest-{suffix}", f"dc-init-peer-{suffix}", "52:54:00:aa:bb:01")
    try:
        for ns in (pair.guest_ns, pair.peer_ns):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", pair.guest_ns, "link", "add", "boot0", "address", pair.guest_mac, "type", "veth",
                        "peer", "name", "peer0", "netns", pair.peer_ns], check=True)  # fmt: skip
        # a second Ethernet interface the boot interface must be told apart from
        subprocess.run(["ip", "-n", pair.guest_ns, "link", "add", "other0", "type", "veth", "peer", "name", "other1"], check=True)
        yield pair
    finally:
        for ns in (pair.guest_ns, pair.peer_ns):
            subprocess.run(["ip", "netns", "del", ns], check=False)


def wait_for_link(image: Path, veth: VethPair, shell: list[str], cmdline: str) -> subprocess.Popen[str]:
    script = "\n".join(
        [
            f". {shlex.quote(str(image / 'etc/diskless/initramfs.conf'))}",
            f". {shlex.quote(str(image / 'usr/share/diskless/initramfs-lib.sh'))}",
            f"diskless_parse_cmdline {shlex.quote(cmdline)}",
            "diskless_wait_for_link",
        ]
    )
    command = ["ip", "netns", "exec", veth.guest_ns, *shell, "-c", script]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


BOOTIF = "BOOTIF=01-52-54-00-aa-bb-01"


def wait_until_up(veth: VethPair, name: str = "boot0", timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "UP" in veth.guest_link(name)["flags"]:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
def test_the_boot_interface_is_brought_up_and_its_carrier_awaited(images: dict[str, Path], veth: VethPair, shell: list[str]) -> None:
    started = time.monotonic()
    waiting = wait_for_link(images["debian"], veth, shell, f"{BOOTIF} ip=dhcp diskless.link_wait=30")
    assert wait_until_up(veth), "the boot interface was not set up"
    time.sleep(0.5)
    assert waiting.poll() is None, "returned before the link had a carrier"
    veth.peer_up()
    _out, stderr = waiting.communicate(timeout=15)
    assert waiting.returncode == 0, stderr
    assert time.monotonic() - started < 25, "waited for the timeout, not for the carrier"
    assert veth.guest_link()["operstate"] == "UP"
    assert "UP" not in veth.guest_link("other0")["flags"], "an interface other than BOOTIF's was touched"


@pytest.mark.parametrize("bootif", ["", "BOOTIF=01-52-54-00-ff-ff-ff"], ids=["no-bootif", "bootif-of-no-interface"])
def test_without_a_matching_bootif_every_ethernet_interface_is_tried(images: dict[str, Path], veth: VethPair, bootif: str) -> None:
    waiting = wait_for_link(images["debian"], veth, ["dash"], f"{bootif} diskless.link_wait=30")
    assert wait_until_up(veth, "boot0") and wait_until_up(veth, "other0"), "not every Ethernet interface was set up"
    veth.peer_up()
    _out, stderr = waiting.communicate(timeout=15)
    assert waiting.returncode == 0, stderr


def test_no_carrier_gives_up_after_the_wait_with_a_message(images: dict[str, Path], veth: VethPair) -> None:
    started = time.monotonic()
    waiting = wait_for_link(images["debian"], veth, ["dash"], f"{BOOTIF} diskless.link_wait=02")
    _out, stderr = waiting.communicate(timeout=15)
    assert waiting.returncode == 1
    assert 1 <= time.monotonic() - started < 10  # whole seconds of /proc/uptime
    assert "diskless: no carrier on boot0 after 2 s" in stderr


@pytest.mark.parametrize("value", ["0", "1.5", "soon"])
def test_zero_or_a_bad_link_wait_leaves_the_interfaces_alone(images: dict[str, Path], veth: VethPair, value: str) -> None:
    waiting = wait_for_link(images["debian"], veth, ["dash"], f"{BOOTIF} diskless.link_wait={value}")
    _out, stderr = waiting.communicate(timeout=5)
    assert waiting.returncode == 0, stderr
    assert "UP" not in veth.guest_link()["flags"]
    assert ("not a whole number" in stderr) == (value != "0")


# ---- the sealed /etc: fetch (wget), decrypt (openssl cms), extract (tar) ----------------------------
KEY = "0f" * 32
KEY_ID = "6469736b6c6573732d657463"
BUNDLE_URL = "http://10.0.0.2/etc/n1.cms"
SEALED_FAKES = """
mkdir() { log "mkdir $*"; case "$*" in *"$SANDBOX"*) command mkdir "$@" ;; esac; }
sleep() { log "sleep $*"; }
chmod() { log "chmod $*"; }
wget() {
    log "wget $*"
    log "seal-dir-mode $(stat -c %a "${3%/*}")"
    [ -z "${WGET_FAIL:-}" ] || return 1
    cp "$BUNDLE_SRC" "$3"
}
openssl() {
    log "openssl $*"
    out=
    while [ $# -gt 0 ]; do
        [ "$1" = -out ] && out=$2
        shift
    done
    printf 'plaintext written before the tag is checked\\n' > "$out"  # as openssl does
    return "${OPENSSL_STATUS:-0}"
}
tar() { log "tar $*"; }
"""


def run_sealed(
    image: Path,
    sandbox: Path,
    shell: list[str],
    cmdline: str,
    *,
    call: str = "diskless_setup /root",
    fakes: str = SEALED_FAKES,
    env: dict[str, str] | None = None,
) -> tuple[int, list[str], str]:
    """The library with recorders and the sealed path's fakes; SANDBOX's path reads S in the record."""
    record = sandbox / "record"
    record.write_text("")
    script = "\n".join(
        [
            RECORDERS,
            fakes,
            f". {shlex.quote(str(image / 'etc/diskless/initramfs.conf'))}",
            f". {shlex.quote(str(image / 'usr/share/diskless/initramfs-lib.sh'))}",
            'DISKLESS_SEAL_DIR="$SANDBOX/seal" DISKLESS_FW_CFG="$SANDBOX/fw_cfg" DISKLESS_ETC_KEY_WAIT=0',
            f"diskless_parse_cmdline {shlex.quote(cmdline)}",
            call,
        ]
    )
    path = f"{sandbox / 'bin'}:/usr/bin:/bin"
    full_env = {"RECORD": str(record), "PATH": path, "SANDBOX": str(sandbox), "BUNDLE_SRC": str(sandbox / "bundle.cms"), **(env or {})}
    proc = subprocess.run([*shell, "-c", script], capture_output=True, text=True, env=full_env, check=False)
    assert KEY not in proc.stdout + proc.stderr, "the key was printed"
    calls = [line.replace(str(sandbox), "S") for line in record.read_text().splitlines()]
    return proc.returncode, calls, proc.stderr


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A key in S/key and in S/fw_cfg (as qemu_fw_cfg shows it), a dummy bundle, S/root/etc."""
    (tmp_path / "key").write_text(KEY + "\n")
    fw_cfg = tmp_path / "fw_cfg/opt/io.diskless/etc-key"
    fw_cfg.mkdir(parents=True)
    (fw_cfg / "raw").write_text(KEY + "\n")
    (tmp_path / "bundle.cms").write_bytes(b"not really sealed")
    (tmp_path / "root/etc").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    return tmp_path


OVERLAY = [
    "modprobe overlay",
    "mkdir -p /run/diskless/lower /run/diskless/rw",
    "mount -n -o move /root /run/diskless/lower",
    "mount -n -t tmpfs -o size=50%,mode=0755 diskless-rw /run/diskless/rw",
    "mkdir -p /run/diskless/rw/upper /run/diskless/rw/work",
    "mount -n -t overlay -o lowerdir=/run/diskless/lower,upperdir=/run/diskless/rw/upper,workdir=/run/diskless/rw/work diskless-root /root",
]
OPENSSL = f"openssl cms -decrypt -binary -inform DER -secretkey {KEY} -secretkeyid {KEY_ID} -in S/seal/etc.cms -out S/seal/etc.tar"
FETCH = [f"wget -q -O S/seal/etc.cms {BUNDLE_URL}", "seal-dir-mode 700"]


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
@pytest.mark.parametrize(
    ("source", "key_steps"),
    [
        ("file:S/key", ["chmod 0400 S/key"]),
        ("fw_cfg:opt/io.diskless/etc-key", ["modprobe qemu_fw_cfg", "chmod 0400 S/fw_cfg/opt/io.diskless/etc-key/raw"]),
    ],
    ids=["file", "fw_cfg"],
)
def test_sealed_etc_overlay_then_fetch_decrypt_extract(images: dict[str, Path], sandbox: Path, shell: list[str], source: str, key_steps: list[str]) -> None:
    cmdline = f"ip=dhcp boot=nfs {NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key={source.replace('S/', f'{sandbox}/')} quiet"
    status, calls, stderr = run_sealed(images["debian"], sandbox, shell, cmdline)
    assert status == 0, stderr
    assert calls == [
        *OVERLAY,
        "mkdir -p -m 0700 S/seal",
        *key_steps,
        *FETCH,
        OPENSSL,
        "tar -xpf S/seal/etc.tar -C /root/etc",
        "mkdir -p /root/var/lib/rancher",
        "mount -n -t tmpfs -o size=1g,mode=0700 diskless-tmpfs /root/var/lib/rancher",
    ]
    assert not (sandbox / "seal").exists(), "the bundle and the plaintext were left behind"


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
def test_openssl_failure_extracts_nothing_and_stops_the_boot(images: dict[str, Path], sandbox: Path, shell: list[str]) -> None:
    cmdline = f"{NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=file:{sandbox}/key"
    status, calls, stderr = run_sealed(images["debian"], sandbox, shell, cmdline, env={"OPENSSL_STATUS": "4"})
    assert status == 1
    assert calls[-1] == OPENSSL, "went on after openssl failed"
    assert not any(call.startswith("tar") for call in calls)
    assert f"diskless: openssl could not open the sealed /etc bundle {BUNDLE_URL} with the key from diskless.etc_key=file:{sandbox}/key" in stderr
    assert "wrong key, or the bundle is damaged or forged" in stderr
    assert not (sandbox / "seal").exists(), "the unauthenticated plaintext was left behind"


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
def test_fetch_is_retried_then_given_up_with_a_message(images: dict[str, Path], sandbox: Path, shell: list[str]) -> None:
    cmdline = f"{NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=file:{sandbox}/key"
    env = {"WGET_FAIL": "1"}
    call = "DISKLESS_ETC_FETCH_TRIES=3 DISKLESS_ETC_FETCH_DELAY=2; diskless_setup /root"
    status, calls, stderr = run_sealed(images["debian"], sandbox, shell, cmdline, call=call, env=env)
    assert status == 1
    assert calls[len(OVERLAY) + 2 :] == [*FETCH, "sleep 2", *FETCH, "sleep 2", *FETCH]
    assert f"diskless: fetching the sealed /etc bundle {BUNDLE_URL} failed 3 times, 2 s apart" in stderr
    assert not (sandbox / "seal").exists()


BAD_KEYS = {"short": "abcd\n", "not-hex": "g" * 64 + "\n", "too-long": KEY + "0\n", "empty": ""}


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
@pytest.mark.parametrize("content", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_key_that_is_not_64_hex_digits_stops_the_boot(images: dict[str, Path], sandbox: Path, shell: list[str], content: str) -> None:
    (sandbox / "key").write_text(content)
    cmdline = f"{NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=file:{sandbox}/key"
    status, calls, stderr = run_sealed(images["debian"], sandbox, shell, cmdline)
    assert status == 1
    assert not any(call.startswith(("wget", "openssl", "tar")) for call in calls)
    if content:
        assert f"diskless: the /etc key from diskless.etc_key=file:{sandbox}/key is not 64 hexadecimal digits" in stderr
    else:
        assert f"diskless: could not read the /etc key from diskless.etc_key=file:{sandbox}/key" in stderr
    assert not (sandbox / "seal").exists()


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
@pytest.mark.parametrize("source", ["file:S/missing", "fw_cfg:opt/io.diskless/other"], ids=["file", "fw_cfg"])
def test_a_missing_key_source_stops_the_boot(images: dict[str, Path], sandbox: Path, shell: list[str], source: str) -> None:
    source = source.replace("S/", f"{sandbox}/")
    status, calls, stderr = run_sealed(images["debian"], sandbox, shell, f"{NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key={source}")
    assert status == 1
    assert not any(call.startswith(("wget", "openssl", "tar")) for call in calls)
    assert f"diskless: the /etc key source diskless.etc_key={source} (" in stderr and "is missing or unreadable" in stderr


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (f"diskless.etc=10.0.0.2:/srv/diskless/hosts/n1/etc diskless.etc_bundle={BUNDLE_URL}",
         f"diskless: both diskless.etc=10.0.0.2:/srv/diskless/hosts/n1/etc (NFS) and diskless.etc_bundle={BUNDLE_URL} (sealed) given"),
        ("diskless.etc_bundle=ftp://10.0.0.2/etc/n1.cms", "diskless: diskless.etc_bundle=ftp://10.0.0.2/etc/n1.cms: not an http:// or https:// URL"),
        ("diskless.etc_bundle=10.0.0.2/etc/n1.cms", "diskless: diskless.etc_bundle=10.0.0.2/etc/n1.cms: not an http:// or https:// URL"),
        (f"diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=file:relative/key", "diskless: diskless.etc_key=file:relative/key: the key source must be"),
        (f"diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=/etc/key", "diskless: diskless.etc_key=/etc/key: the key source must be"),
        (f"diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=fw_cfg:", "diskless: diskless.etc_key=fw_cfg:: the key source must be"),
        (f"diskless.etc_bundle={BUNDLE_URL} diskless.overlay=no", "diskless: diskless.etc_bundle needs the RAM overlay"),
    ],
    ids=["nfs-and-sealed", "ftp", "no-scheme", "relative-file", "no-kind", "empty-fw_cfg", "no-overlay"],
)  # fmt: skip
def test_bad_sealed_parameters_stop_the_boot_before_any_mount(images: dict[str, Path], sandbox: Path, shell: list[str], params: str, message: str) -> None:
    status, calls, stderr = run_sealed(images["debian"], sandbox, shell, f"{NFSROOT} {params}")
    assert status == 1
    assert calls == []
    assert message in stderr


# ---- the same with the real openssl and the real busybox tar: only the download is faked -------------
REAL_FAKES = """
mkdir() { command mkdir "$@"; }
wget() { [ -z "${WGET_FAIL:-}" ] || return 1; cp "$BUNDLE_SRC" "$3"; }
"""
TREE = {  # path: (mode, uid, gid, content or None for a directory)
    "hostname": (0o644, 0, 0, b"n1\n"),
    "shadow": (0o640, 0, 42, b"root:$y$j9T$...:19000:0:99999:7:::\n"),
    "ssh": (0o755, 0, 0, None),
    "ssh/ssh_host_ed25519_key": (0o600, 0, 0, b"-----BEGIN OPENSSH PRIVATE KEY-----\n"),
    "rancher": (0o700, 0, 0, None),
    "rancher/token": (0o400, 0, 0, b"K10secret\n"),
    "home-owned": (0o664, 1000, 1000, b"a user's file\n"),
}


def seal_tree(work: Path, key: str) -> Path:
    """The boot server's bundle: a POSIX tar (./names, numeric owners, sorted) sealed with the interface's command."""
    tar = work / "etc.tar"
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as archive:
        root = tarfile.TarInfo(".")
        root.type, root.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(root)
        for name, (mode, uid, gid, content) in sorted(TREE.items()):
            info = tarfile.TarInfo(f"./{name}")
            info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, 1_700_000_000
            if content is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    bundle = work / "bundle.cms"
    subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes-256-gcm", "-secretkey", key, "-secretkeyid", KEY_ID,
                    "-outform", "DER", "-in", str(tar), "-out", str(bundle)], check=True)  # fmt: skip
    tar.unlink()
    return bundle


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox-ash"])
def test_real_openssl_and_busybox_tar_open_the_sealed_tree(images: dict[str, Path], sandbox: Path, shell: list[str]) -> None:
    key = os.urandom(32).hex()
    (sandbox / "key").write_text(key + "\n")
    seal_tree(sandbox, key)
    (sandbox / "bin/tar").symlink_to(subprocess.run(["which", "busybox"], capture_output=True, text=True, check=True).stdout.strip())
    (sandbox / "root/etc/from-the-image").write_text("image default\n")
    cmdline = f"{NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=file:{sandbox}/key"
    newroot = sandbox / "root"
    unseal = f"DISKLESS_ETC_FETCH_TRIES=1; diskless_unseal_etc {newroot}"

    status, _calls, stderr = run_sealed(images["debian"], sandbox, shell, cmdline, call=unseal, fakes=REAL_FAKES)
    assert status == 0, stderr
    for name, (mode, uid, gid, content) in TREE.items():
        path = newroot / "etc" / name
        st = path.lstat()
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (mode, uid, gid), name
        if content is not None:
            assert path.read_bytes() == content
    assert (sandbox / "key").stat().st_mode & 0o777 == 0o400
    assert not (sandbox / "seal").exists()

    # a wrong key, then one flipped byte: openssl fails, nothing is extracted
    for name in TREE:
        subprocess.run(["rm", "-rf", str(newroot / "etc" / name)], check=True)
    wrong = sandbox / "wrong-key"
    wrong.write_text(os.urandom(32).hex() + "\n")
    bundle = sandbox / "bundle.cms"
    sealed = bundle.read_bytes()
    flipped = bytearray(sealed)
    flipped[len(flipped) // 2] ^= 0x01
    for key_file, content in ((wrong, sealed), (sandbox / "key", bytes(flipped))):
        bundle.write_bytes(content)
        cmdline = f"{NFSROOT} diskless.etc_bundle={BUNDLE_URL} diskless.etc_key=file:{key_file}"
        status, _calls, stderr = run_sealed(images["debian"], sandbox, shell, cmdline, call=unseal, fakes=REAL_FAKES)
        assert status == 1, key_file
        assert "diskless: openssl could not open the sealed /etc bundle" in stderr
        assert sorted(p.name for p in (newroot / "etc").iterdir()) == ["from-the-image"], "something was extracted"
        assert not (sandbox / "seal").exists()
