"""Role rootfs without building: the recipe (build.sh) rendered for each family, its version, its checks.

Fast (no QEMU, no mmdebstrap run): the role runs on localhost with `rootfs_build: false` and a temporary
store; several images render in one ansible-playbook run. The Debian build itself is exercised by the
end-to-end test; Arch mirrors are out of reach here, so the Arch recipe is rendered, syntax-checked and
read. The customize step (identity and secrets out of the image) runs for real on a fake tree.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.playbook import role_task, run_play

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbH8dXbqZ0JmQp7JfZw1wAtCh2m4z0X0Z4sL3H2l1nE ops@example"
USERS = [{"name": "ops", "uid": 1001, "groups": ["sudo"], "authorized_keys": [KEY]}]
IMAGES: dict[str, dict[str, Any]] = {
    "debian": {"rootfs_family": "debian", "rootfs_suite": "bookworm", "rootfs_packages": ["htop"]},
    "ubuntu": {"rootfs_family": "ubuntu", "rootfs_suite": "noble"},
    "arch": {"rootfs_family": "arch"},
    "users": {"rootfs_users": USERS, "rootfs_root_authorized_keys": [KEY], "rootfs_locale": "en_US.UTF-8"},
    "tz": {"rootfs_timezone": "Europe/Paris", "rootfs_masked_units": []},  # nothing to chroot into in test_customize_*
}


def render_task(store: Path, name: str, **params: Any) -> dict[str, Any]:
    return role_task("rootfs", rootfs_store=str(store), rootfs_build=False, rootfs_name=name, **params)


def staged(store: Path, name: str) -> list[Path]:
    """Staging directories (one per version) holding the rendered recipe."""
    return sorted((store / name).glob(".build-*"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every image of IMAGES rendered in one run, then `debian` rendered again with the same recipe."""
    tmp_path = tmp_path_factory.mktemp("rootfs")
    store = tmp_path / "images"
    tasks = [render_task(store, name, **params) for name, params in IMAGES.items()]
    tasks.append(render_task(store, "debian", **IMAGES["debian"]))
    result = run_play(tmp_path, tasks)
    assert not result["failed"], result["msg"]
    return store


def recipe(store: Path, name: str) -> str:
    [directory] = staged(store, name)
    return (directory / "build.sh").read_text()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "debian",
            [
                "mmdebstrap",
                "--variant=minbase",
                "linux-image-amd64",
                "http://deb.debian.org/debian",
                "--components=main",
                "htop",
                'chroot "$root" systemctl mask e2scrub_reap.service e2scrub_all.timer',
            ],
        ),
        ("ubuntu", ["mmdebstrap", "linux-image-generic", "ubuntu-archive-keyring.gpg", "--components=main,universe", "http://archive.ubuntu.com/ubuntu"]),
        ("arch", ["pacstrap -C", "mount --bind", "mkinitcpio-nfs-utils", "Server = https://geo.mirror.pkgbuild.com/$repo/os/$arch", "arch-chroot"]),
    ],
)
def test_recipe_is_rendered_per_family(store: Path, name: str, expected: list[str]) -> None:
    [directory] = staged(store, name)
    assert re.fullmatch(r"\.build-[0-9a-f]{12}", directory.name)
    text = recipe(store, name)
    for needle in expected:
        assert needle in text, f"{needle!r} missing from the {name} recipe"
    subprocess.run(["bash", "-n", str(directory / "build.sh")], check=True)
    assert (directory / "build.sh").stat().st_mode & 0o111


def test_recipe_json_names_the_version_and_packages(store: Path) -> None:
    [directory] = staged(store, "debian")
    data = json.loads((directory / "recipe.json").read_text())
    assert data["version"] == directory.name.removeprefix(".build-")
    assert {"linux-image-amd64", "initramfs-tools", "zstd", "htop"} <= set(data["packages"])
    assert data["mirror"] == "http://deb.debian.org/debian"


def test_same_recipe_same_version_and_no_change(store: Path, tmp_path: Path) -> None:
    assert len(staged(store, "debian")) == 1  # rendered twice in the fixture
    again = run_play(tmp_path, [render_task(store, "debian", **IMAGES["debian"])])
    assert not again["failed"], again["msg"]
    assert again["changed"] == 0
    assert len(staged(store, "debian")) == 1


def test_recipe_change_gives_another_version(store: Path) -> None:
    """`tz` and `users` differ from `debian`'s recipe: three different versions."""
    versions = {staged(store, name)[0].name for name in ("debian", "tz", "users")}
    assert len(versions) == 3


def test_users_and_keys_reach_the_recipe_without_passwords(store: Path) -> None:
    text = recipe(store, "users")
    assert "useradd --create-home --shell /bin/bash --uid 1001 --groups sudo ops" in text
    assert "passwd --lock ops" in text
    assert text.count(KEY) == 2
    assert "locale-gen" in text and "en_US.UTF-8 UTF-8" in text
    assert "locales" in text  # the locale package joins the package list


def test_bad_input_is_reported_at_once_before_any_change(tmp_path: Path) -> None:
    store = tmp_path / "images"
    private = "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA"
    bad = render_task(
        store,
        "Bad Name",
        rootfs_mirror="ftp://mirror",
        rootfs_timezone="../../etc/shadow",
        rootfs_root_authorized_keys=[private],
        rootfs_users=[{"name": "root"}, {"name": "ops", "uid": 5}],
    )
    result = run_play(tmp_path, [bad])
    assert result["failed"]
    for needle in ["rootfs_name=Bad Name", "rootfs_mirror=ftp://mirror", "rootfs_timezone=../../etc/shadow",
                   "private keys never go into the image", "rootfs_users[0]: name=root", "rootfs_users[1]: uid=5"]:  # fmt: skip
        assert needle in result["msg"]
    assert not store.exists()


def test_a_password_field_is_refused(tmp_path: Path) -> None:
    """A password cannot slip into the shared image: the argument spec knows no such option."""
    store = tmp_path / "images"
    result = run_play(tmp_path, [render_task(store, "img", rootfs_users=[{"name": "ops", "password": "secret"}])])
    assert result["failed"]
    assert "password" in result["msg"]
    assert not store.exists()


def fake_tree(root: Path, *, kernel: bool) -> None:
    for directory in ["etc/ssh", "etc/default", "var/lib/dbus", "boot"]:
        (root / directory).mkdir(parents=True, exist_ok=True)
    for name in ["ssh_host_rsa_key", "ssh_host_rsa_key.pub", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]:
        (root / "etc/ssh" / name).write_text("secret\n")
    (root / "etc/ssh/sshd_config").write_text("# kept\n")
    (root / "etc/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (root / "var/lib/dbus/machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (root / "etc/hostname").write_text("buildhost\n")
    if kernel:
        (root / "boot/vmlinuz-6.1.0-1-amd64").write_text("kernel\n")


@pytest.mark.parametrize("kernel", [True, False], ids=["with-kernel", "without-kernel"])
def test_customize_removes_identity_and_secrets(store: Path, tmp_path: Path, kernel: bool) -> None:
    [directory] = staged(store, "tz")  # no users: customize needs no chroot
    root = tmp_path / "tree"
    fake_tree(root, kernel=kernel)
    proc = subprocess.run(["bash", str(directory / "build.sh"), "customize", str(root)], capture_output=True, text=True, check=False)
    assert sorted(p.name for p in (root / "etc/ssh").iterdir()) == ["sshd_config"]
    assert (root / "etc/machine-id").read_text() == ""
    assert not (root / "var/lib/dbus/machine-id").exists()
    assert (root / "etc/hostname").read_text() == "localhost\n"
    assert (root / "etc/timezone").read_text() == "Europe/Paris\n"
    assert (root / "etc/localtime").readlink() == Path("/usr/share/zoneinfo/Europe/Paris")
    if kernel:
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode != 0
        assert "no kernel" in proc.stderr
