"""End-to-end: two diskless QEMU guests boot from a boot server configured by playbooks/boot.yml.

For each guest: login prompt reached; its reserved IP and its own host name; `/` is an overlay whose
lower layer is the read-only NFS image; the kernel command line carries that host's own parameters;
with the NFS delivery a file written in /etc survives its reboot and is absent on the other guest (sealed: it
vanishes, /etc is opened afresh from the host's bundle at each boot); a file written in /usr
vanishes at reboot. Then the playbook runs again (nothing may change) and in check mode. The lab
(network, container, taps, QEMU) is removed afterwards, also on failure.

The sealed /etc (docs/security.md), in the same bring-up: before the guests power on, an attacker on the boot
network (a network namespace on the lab's bridge, a MAC of its own) takes e2e-node1's address statically and
tries to get e2e-node1's secrets over NFS and HTTP; then e2e-node1 boots and must have them (from its key).

Slow by nature (TCG emulation, two boots per guest, three playbook runs): minutes, not seconds. Marked `e2e`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab.guests import ETC_KEY_FW_CFG, Guest
from lab.netclient import NetnsClient
from lab.services import ClientSpec, Lab, LabSpec, running_lab

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running_lab(LabSpec()) as lab:
        yield lab


# ---- the attacker of the sealed /etc ------------------------------------------------------------
VICTIM = "e2e-node1"  # the e2e lab's lab-node1
ATTACKER_MAC = "52:54:00:98:65:66"  # reserved for no host
CMS_KEY_ID = "6469736b6c6573732d657463"  # "diskless-etc", the interface's -secretkeyid


@dataclass
class Secrets:
    """What the boot server holds in VICTIM's plaintext tree (read with podman exec): the proof material."""

    hostname: str
    # not in the repr: an assertion that fails shows the objects it names
    ssh_key: bytes = field(repr=False)  # /etc/ssh/ssh_host_ed25519_key
    root_hash: str = field(repr=False)  # root's field in /etc/shadow
    etc_key: str | None = field(repr=False)  # <hosts_root>/VICTIM/etc-key (None: delivery nfs or an older boot server)

    @property
    def ssh_key_sha256(self) -> str:
        return hashlib.sha256(self.ssh_key).hexdigest()

    @property
    def ssh_key_lines(self) -> list[str]:
        """The key's base64 lines (what a copy of it anywhere would contain)."""
        return [line for line in self.ssh_key.decode().splitlines() if line and not line.startswith("-----")]


@dataclass
class Findings:
    """What the attacker got (never the secrets themselves: only whether it matched them)."""

    ip: str
    mounts: dict[str, tuple[int, str]] = field(default_factory=dict)  # attempt -> (exit status, what it read or why not)
    showmount: str = ""
    image_root: str = ""
    image_mount: tuple[int, str] = (0, "")
    http_get: tuple[str, bytes] = ("", b"")
    http_methods: dict[str, str] = field(default_factory=dict)


def _server_secrets(lab: Lab, name: str) -> Secrets:
    etc = f"{lab.spec.hosts_root}/{name}/etc"
    shadow = lab.server_exec("cat", f"{etc}/shadow")
    root_hash = next(line.split(":")[1] for line in shadow.splitlines() if line.startswith("root:"))
    assert lab.state.container is not None
    ssh_key = subprocess.run(
        ["podman", "exec", lab.state.container, "cat", f"{etc}/ssh/ssh_host_ed25519_key"], capture_output=True, check=True, timeout=60
    ).stdout
    key_path = f"{lab.spec.hosts_root}/{name}/etc-key"
    etc_key = lab.server_exec("cat", key_path).strip() if _exists(lab, key_path) else None
    return Secrets(hostname=lab.server_exec("cat", f"{etc}/hostname").strip(), ssh_key=ssh_key, root_hash=root_hash, etc_key=etc_key)


def _exists(lab: Lab, path: str) -> bool:
    assert lab.state.container is not None
    return subprocess.run(["podman", "exec", lab.state.container, "test", "-e", path], capture_output=True, timeout=60, check=False).returncode == 0


# The attacker's NFS client is libnfs (nfs-ls, nfs-cat: userspace MOUNT/NFSv3 and NFSv4 with AUTH_SYS as root, what
# a kernel mount sends): this machine's kernel may have no NFS client at all (mount -t nfs: "No such device").
# It reports only digests and yes/no, never the secrets. Arguments: SERVER PATH VERSION LOOK [PATTERNS].
NFS_LOOK = r"""
S=$1 P=$2 V=$3
get() { timeout 60 nfs-cat "nfs://$S$P/$1?version=$V"; }
out=$(timeout 60 nfs-ls "nfs://$S$P?version=$V" 2>&1) || { printf 'refused: %s\n' "$out" | head -n 3; exit 32; }
echo mounted
case "$4" in
  etc)
    echo "hostname=$(get hostname 2>&1 | head -n 1)"
    echo "ssh_host_ed25519_key.sha256=$(get ssh/ssh_host_ed25519_key 2>/dev/null | sha256sum | cut -d' ' -f1)"
    echo "root_hash.sha256=$(get shadow 2>/dev/null | awk -F: '$1 == "root" {printf "%s", $2}' | sha256sum | cut -d' ' -f1)"
    ;;
  image)
    keys=$(timeout 60 nfs-ls "nfs://$S$P/etc/ssh?version=$V" 2>&1) || { echo "cannot list etc/ssh: $keys"; exit 33; }
    echo "private_host_keys=$(printf '%s\n' "$keys" | grep -c 'ssh_host_[a-z0-9]*_key$')"
    for f in var/lib/rancher/k3s/server/token var/lib/rancher/k3s/server/agent-token etc/rancher/k3s/config.yaml etc/rancher/node/password; do
      get "$f" >/dev/null 2>&1 && echo "present=$f"
    done
    # the victim's SSH key lines and the site's root hash (fixed strings in $5) and a K3s token (K10<hex>::)
    for f in etc/shadow etc/shadow- etc/gshadow $(printf '%s\n' "$keys" | awk '{print "etc/ssh/" $NF}'); do
      body=$(get "$f" 2>/dev/null) || continue
      printf '%s\n' "$body" | grep -qF -f "$5" && echo "secret_in=$f"
      printf '%s\n' "$body" | grep -qE 'K10[0-9a-f]{32,}::' && echo "k3s_token_in=$f"
    done
    ;;
esac
exit 0
"""


def _attempt(attacker: NetnsClient, server: str, path: str, version: int, look: str, *, patterns: Path | None = None) -> tuple[int, str]:
    result = attacker.netns("sh", "-c", NFS_LOOK, "attacker", server, path, str(version), look, str(patterns or "/dev/null"), timeout=300, check=False)
    return result.returncode, (result.stdout + result.stderr).strip()


def _curl(attacker: NetnsClient, *args: str) -> str:
    """HTTP status code of one request from the attacker."""
    result = attacker.netns("curl", "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", *args, timeout=60, check=False)
    return result.stdout.strip() or f"curl exit {result.returncode}"


@pytest.fixture(scope="module")
def victim(lab: Lab) -> Secrets:
    return _server_secrets(lab, VICTIM)


@pytest.fixture(scope="module")
def attack(lab: Lab, victim: Secrets) -> Iterator[Findings]:
    """Before the guests power on: an attacker that is not VICTIM (own MAC, static address) takes VICTIM's IP and tries.

    VICTIM is powered off meanwhile (taking the address of a running host would disturb its NFS root and the
    tests after this one); the boot server's neighbour entry for the address is flushed afterwards.
    Namespace, veth and temporary files are removed on exit, also on failure (libnfs leaves no mount behind).
    """
    server, hosts_root = lab.spec.server_ip, lab.spec.hosts_root
    found = Findings(ip=lab.spec.address(lab.client(VICTIM).octet))
    etc = f"{hosts_root}/{VICTIM}/etc"
    assert shutil.which("nfs-ls") and shutil.which("nfs-cat"), "the attacker needs libnfs-utils (tools/apt-packages.txt)"
    with tempfile.TemporaryDirectory(prefix="attacker-") as scratch, NetnsClient(bridge=lab.bridge, mac=ATTACKER_MAC) as attacker:
        try:
            attacker.hold({"fixed-address": found.ip})
            assert attacker.ping(server), f"the attacker at {found.ip} cannot reach the boot server"
            found.mounts[f"NFSv3 {server}:{etc}"] = _attempt(attacker, server, etc, 3, "etc")
            found.mounts[f"NFSv4 {server}:{etc}"] = _attempt(attacker, server, etc, 4, "etc")
            parent = f"{hosts_root}/{VICTIM}"  # its key lives there, next to its plaintext tree
            found.mounts[f"NFSv4 {server}:{parent}"] = _attempt(attacker, server, parent, 4, "etc")
            found.showmount = attacker.netns("showmount", "-e", server, timeout=60, check=False).stdout
            found.image_root = lab.server_exec("sh", "-c", "readlink -f /srv/diskless/images/*/current | head -n 1").strip() + "/root"
            patterns = Path(scratch) / "patterns"
            assert len(victim.root_hash) > 8 and victim.ssh_key_lines, "no secrets to look for (an empty pattern would match every file)"
            patterns.write_text("\n".join([*victim.ssh_key_lines, victim.root_hash]) + "\n")
            patterns.chmod(0o600)
            found.image_mount = _attempt(attacker, server, found.image_root, 3, "image", patterns=patterns)
            url = f"http://{server}/etc/{VICTIM}.cms"
            bundle = Path(scratch) / "bundle"
            status = attacker.netns("curl", "-s", "-m", "30", "-o", str(bundle), "-w", "%{http_code}", url, timeout=60, check=False).stdout.strip()
            found.http_get = (status, bundle.read_bytes() if bundle.exists() else b"")
            for method in ("PUT", "POST", "DELETE"):
                found.http_methods[method] = _curl(attacker, "-X", method, "--data-binary", "x", url)
        finally:
            lab.server_exec("ip", "neigh", "flush", "to", found.ip, check=False)
    yield found


def _hole(what: str, outcome: tuple[int, str], victim: Secrets) -> str:
    status, output = outcome
    matches = []
    if f"hostname={victim.hostname}" in output:
        matches.append("its hostname")
    if f"ssh_host_ed25519_key.sha256={victim.ssh_key_sha256}" in output:
        matches.append("its SSH host private key (same sha256 as the boot server's)")
    if f"root_hash.sha256={hashlib.sha256(victim.root_hash.encode()).hexdigest()}" in output:
        matches.append("root's password hash")
    return f"HOLE: {what} mounted it (exit {status}) and read {', '.join(matches) or f'nothing of {VICTIM} /etc there'}"


def test_attacker_with_the_hosts_address_cannot_mount_its_etc_over_nfs(attack: Findings, victim: Secrets) -> None:
    """Fails with the NFS delivery (netboot_etc_delivery: nfs, and everything before the sealed /etc): that is the hole."""
    assert attack.image_mount[0] == 0, f"the attacker's NFS client does not work at all (the image root): {attack.image_mount[1]}"
    holes = [
        _hole(f"an attacker at {attack.ip} ({ATTACKER_MAC}), {attempt}:", outcome, victim) for attempt, outcome in attack.mounts.items() if outcome[0] == 0
    ]
    assert not holes, "\n".join(holes)


def test_no_hosts_etc_is_exported(lab: Lab, attack: Findings) -> None:
    """showmount -e from the attacker lists the image roots, but no host's /etc (nothing under netboot_hosts_root)."""
    assert attack.showmount.startswith("Export list"), attack.showmount
    listed = [line.split()[0] for line in attack.showmount.splitlines()[1:] if line.strip()]
    assert f"{attack.image_root}" in listed, listed
    assert not [path for path in listed if path.startswith(f"{lab.spec.hosts_root}/")], listed


def test_shared_image_root_holds_no_per_host_secret(attack: Findings) -> None:
    """The image root is readable by the boot network by design: it must hold no host key, no root hash of the lab, no K3s token."""
    status, output = attack.image_mount
    assert status == 0 and "mounted" in output, f"the attacker could not mount the image root {attack.image_root} to look: {output}"
    assert "private_host_keys=0" in output, output
    assert not [line for line in output.splitlines() if line.startswith(("present=", "secret_in=", "k3s_token_in="))], output


def test_etc_bundle_is_public_but_sealed(victim: Secrets, attack: Findings) -> None:
    """Anyone gets http://SERVER/etc/VICTIM.cms; a wrong key opens nothing and it carries no plaintext secret.

    Fails until the boot-server side of the sealed /etc (netboot_etc_delivery: sealed, module sealed_etc) is merged: 404.
    """
    status, bundle = attack.http_get
    assert status == "200", f"GET /etc/{VICTIM}.cms from the attacker: HTTP {status} (no bundle: delivery nfs, or the boot-server side is missing)"
    leaked = [name for name, text in (("SSH host key", victim.ssh_key_lines[0]), ("root hash", victim.root_hash)) if text.encode() in bundle]
    assert not leaked, f"the bundle carries {VICTIM}'s {' and '.join(leaked)} in plaintext"
    with tempfile.TemporaryDirectory(prefix="bundle-") as scratch:
        path, tar = Path(scratch) / "bundle.cms", Path(scratch) / "out.tar"
        path.write_bytes(bundle)

        def decrypt(key: str) -> int:
            command = ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-secretkey", key, "-secretkeyid", CMS_KEY_ID]
            return subprocess.run([*command, "-in", str(path), "-out", str(tar)], capture_output=True, timeout=60, check=False).returncode

        assert decrypt(secrets.token_hex(32)) != 0, "a random key opened the bundle"
        assert victim.etc_key is not None, f"the boot server has no {VICTIM}/etc-key"
        opened = decrypt(victim.etc_key) == 0  # the positive control: the right key opens it
        assert opened, "the boot server's own key does not open the bundle"
        listing = subprocess.run(["tar", "-tf", str(tar)], capture_output=True, text=True, timeout=60, check=True).stdout.split()
        assert "./hostname" in listing and "./ssh/ssh_host_ed25519_key" in listing


def test_etc_bundle_url_refuses_writes(attack: Findings) -> None:
    assert attack.http_methods == {"PUT": "405", "POST": "405", "DELETE": "405"}


@pytest.fixture(scope="module")
def guests(lab: Lab, attack: Findings) -> Iterator[dict[str, Guest]]:
    """Both guests powered on together (as after a power cut), then logged in on their serial consoles.

    After the attacker (`attack`) has left the boot network: it held e2e-node1's address while e2e-node1 was off.
    """
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
def test_host_has_its_own_secrets_after_the_attack(lab: Lab, guests: dict[str, Guest], name: str) -> None:
    """Each host has its own /etc from the boot server: host name, SSH host key, root's hash; and its key came by fw_cfg."""
    console = guests[name].console
    assert console is not None
    own = _server_secrets(lab, name)
    assert console.check("cat /etc/hostname") == name == own.hostname
    assert console.check("sha256sum < /etc/ssh/ssh_host_ed25519_key | cut -d' ' -f1") == own.ssh_key_sha256
    assert console.check("stat -c '%a %U' /etc/ssh/ssh_host_ed25519_key /etc/shadow").splitlines() == ["600 root", "640 root"]
    root_hash = console.check("awk -F: '$1 == \"root\" {printf \"%s\", $2}' /etc/shadow | sha256sum | cut -d' ' -f1")
    assert root_hash == hashlib.sha256(lab._password_hash.encode()).hexdigest(), "root's hash in /etc/shadow is not the lab's"
    if own.etc_key is not None:  # sealed delivery: the guest got the boot server's key, and only by fw_cfg
        raw = f"/sys/firmware/qemu_fw_cfg/by_name/{ETC_KEY_FW_CFG}/raw"
        digest = console.check(f"modprobe qemu_fw_cfg 2>/dev/null; sha256sum < {shlex.quote(raw)} | cut -d' ' -f1")
        assert digest == hashlib.sha256(f"{own.etc_key}\n".encode()).hexdigest()


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


@pytest.fixture(scope="module")
def sealed(lab: Lab) -> bool:
    """Whether the boot server delivers /etc sealed (a key per host) or over NFS (netboot_etc_delivery: nfs, or older)."""
    return _exists(lab, f"{lab.spec.hosts_root}/{VICTIM}/etc-key")


@pytest.mark.parametrize("name", NAMES)
def test_etc_is_the_hosts_own_nfs_export_or_its_sealed_bundle(lab: Lab, guests: dict[str, Guest], sealed: bool, name: str) -> None:
    console = guests[name].console
    assert console is not None
    if sealed:  # /etc is in the RAM overlay, opened from http://SERVER/etc/NAME.cms; no NFS mount of it
        cmdline = console.check("cat /proc/cmdline").split()
        assert f"diskless.etc_bundle=http://{lab.spec.server_ip}/etc/{name}.cms" in cmdline, cmdline
        assert not [p for p in cmdline if p.startswith("diskless.etc=")], cmdline
        assert console.run("findmnt -n -t nfs,nfs4 /etc")[0] != 0, "a sealed /etc must not be an NFS mount"
        return
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
def test_etc_survives_reboot_and_usr_does_not(guests: dict[str, Guest], rebooted: dict[str, str], sealed: bool, name: str) -> None:
    """NFS delivery: what the host writes in /etc persists. Sealed: the boot server's tree is the truth, /etc is RAM."""
    console = guests[name].console
    assert console is not None
    if sealed:
        assert console.run("test -e /etc/e2e-marker")[0] != 0, "a sealed /etc is opened afresh at each boot"
    else:
        assert console.check("cat /etc/e2e-marker") == rebooted[name]
    status = console.run("test -e /usr/e2e-volatile")[0]
    assert status != 0, "a file written in /usr must vanish at reboot"


@pytest.mark.parametrize("name", NAMES)
def test_etc_is_not_shared_with_the_other_host(guests: dict[str, Guest], rebooted: dict[str, str], sealed: bool, name: str) -> None:
    console = guests[name].console
    assert console is not None
    if sealed:  # nothing written on a host reaches any /etc, its own or another's
        assert console.run("test -e /etc/e2e-marker")[0] != 0
        return
    for other, marker in rebooted.items():
        if other != name:
            status, output = console.run("cat /etc/e2e-marker")
            assert status == 0 and output == rebooted[name] and output != marker


def test_second_run_changes_nothing(lab: Lab, rebooted: dict[str, str], sealed: bool) -> None:
    """The whole boot playbook again, with the hosts up: idempotent (and, NFS delivery, it keeps the hosts' /etc changes)."""
    lab.configure()
    recap = lab.last_recap()
    assert recap["failed"] == 0 and recap["changed"] == 0, recap
    if sealed:
        return
    console = lab.guests["e2e-node1"].console
    assert console is not None
    assert console.check("cat /etc/e2e-marker") == rebooted["e2e-node1"]


def test_check_mode_runs_clean(lab: Lab) -> None:
    """--check --diff against the configured server: nothing fails, nothing would change."""
    lab.configure(check=True)
    recap = lab.last_recap()
    assert recap["failed"] == 0 and recap["changed"] == 0, recap
