"""The lab gives a guest its per-host key of the sealed /etc (lab.guests): fw_cfg file, 0600 copy, never printed."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from lab import guests
from lab.cli import lab_boot_server
from lab.guests import ETC_KEY_FW_CFG, BootServer, Guest
from lab.host import REPO, inventory_vars, netboot_hosts_root
from lab.services import LabSpec
from lab.state import State, down

KEY = "0123456789abcdef" * 4


def _fake_podman(files: dict[str, str], calls: list[tuple[str, ...]]) -> Callable[..., subprocess.CompletedProcess[str]]:
    def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        assert args[:2] == ("exec", "server")
        command, path = args[2], args[-1]
        if command == "test":
            return subprocess.CompletedProcess(args, 0 if path in files else 1, "", "")
        if command == "cat":
            return subprocess.CompletedProcess(args, 0 if path in files else 1, files.get(path, ""), "")
        raise AssertionError(args)

    return podman


def _guest(tmp_path: Path, boot_server: BootServer | None) -> Guest:
    return Guest(name="node1", mac="52:54:00:00:00:01", bridge="br0", tap="t0", directory=tmp_path, boot_server=boot_server)


def test_key_on_the_boot_server_becomes_a_private_fw_cfg_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(guests, "podman", _fake_podman({"/srv/h/node1/etc-key": KEY + "\n"}, calls))
    guest = _guest(tmp_path, BootServer("server", "/srv/h"))
    guest.key_path.parent.mkdir(parents=True)
    note = guest.provision_etc_key()
    key_file = tmp_path / "node1" / "etc-key"
    assert guest.etc_key_file == key_file
    assert key_file.read_text() == KEY + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    command = guest.qemu_command()
    assert command[command.index("-fw_cfg") + 1] == f"name={ETC_KEY_FW_CFG},file={key_file}"
    assert KEY not in note and KEY not in " ".join(command)
    assert ("exec", "server", "cat", "/srv/h/node1/etc-key") in calls


def test_hostname_not_the_qemu_name_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guests, "podman", _fake_podman({"/srv/h/lab-node1/etc-key": KEY + "\n"}, []))
    guest = _guest(tmp_path, BootServer("server", "/srv/h"))
    guest.hostname = "lab-node1"
    guest.key_path.parent.mkdir(parents=True)
    guest.provision_etc_key()
    assert guest.etc_key_file is not None


def test_no_key_on_the_boot_server_boots_without_fw_cfg_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guests, "podman", _fake_podman({}, []))
    guest = _guest(tmp_path, BootServer("server", "/srv/h"))
    guest.key_path.parent.mkdir(parents=True)
    guest.key_path.write_text("a stale copy\n")
    note = guest.provision_etc_key()
    assert guest.etc_key_file is None and not guest.key_path.exists()
    assert "-fw_cfg" not in guest.qemu_command()
    assert "server:/srv/h/node1/etc-key absent" in note and "without a per-host key" in note


def test_no_boot_server_no_key(tmp_path: Path) -> None:
    guest = _guest(tmp_path, None)
    assert "without a per-host key" in guest.provision_etc_key()
    assert "-fw_cfg" not in guest.qemu_command()


@pytest.mark.parametrize("content", ["short\n", KEY.upper() + "\n", KEY + "00\n", f"{KEY}\n{KEY}\n"])
def test_a_malformed_key_is_an_error_that_does_not_show_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    monkeypatch.setattr(guests, "podman", _fake_podman({"/srv/h/node1/etc-key": content}, []))
    guest = _guest(tmp_path, BootServer("server", "/srv/h"))
    with pytest.raises(RuntimeError) as error:
        guest.provision_etc_key()
    assert content.strip() not in str(error.value) and "content not shown" in str(error.value)
    assert guest.etc_key_file is None


def test_write_private_replaces_a_link_instead_of_following_it(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep\n")
    link = tmp_path / "etc-key"
    link.symlink_to(target)
    guests.write_private(link, KEY + "\n")
    assert target.read_text() == "keep\n" and not link.is_symlink()
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


def test_down_removes_the_guests_key_copies(tmp_path: Path) -> None:
    State(directory=tmp_path).save()
    (tmp_path / "node1").mkdir()
    (tmp_path / "node1" / "console.log").write_text("boot\n")
    (tmp_path / "node1" / "etc-key").write_text(KEY + "\n")
    down(tmp_path)
    assert (tmp_path / "node1" / "console.log").exists() and not (tmp_path / "node1" / "etc-key").exists()


def test_hosts_root_comes_from_the_role_default_unless_overridden() -> None:
    assert netboot_hosts_root() == "/srv/diskless/hosts"
    assert netboot_hosts_root({"netboot_hosts_root": "/data/hosts"}) == "/data/hosts"
    assert LabSpec().hosts_root == netboot_hosts_root()
    assert LabSpec(server_vars={"netboot_hosts_root": "/data/hosts"}).hosts_root == "/data/hosts"


def test_the_lab_inventory_boot_server(tmp_path: Path) -> None:
    found = inventory_vars(REPO / "inventories" / "lab", "dc-lab-boot", "boot_servers")
    assert found["nfs_server_implementation"] == "ganesha"  # group_vars/boot_servers.yml is read
    assert lab_boot_server() == BootServer("dc-lab-boot", netboot_hosts_root(found))
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "b.yml").write_text("netboot_hosts_root: /x\n")
    assert netboot_hosts_root(inventory_vars(tmp_path, "b", "boot_servers")) == "/x"
