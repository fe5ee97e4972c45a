"""Verify the rootfs role on a real image it built with mmdebstrap: versions, publication, pruning,
and an image without identity or secrets.

converge built the first version (time zone Europe/Paris), idempotence rebuilt nothing, and the side
effect built a second one from a changed recipe (Etc/UTC), which became current. Store before the
first build (prepare.yml): versions 000000000001 (two days old), 000000000002 (one day old) and the
staging directory of an interrupted build; rootfs_keep_versions is 1.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import testinfra

SERVER = testinfra.get_host("podman://dc-molecule-rootfs")
IMAGE_DIR = "/srv/diskless/images/molecule-mini"
OPS_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEyVlWeHtMV9bgI9XTKr9mESE66gDoFjhkXHz3A6GxoK ops@molecule"
ROOT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB8nbOI5Np4kiKK8ADqcQXXrVGBH5gkOFHAkT+/KxP5b root@molecule"
BASE_PACKAGES = ["systemd-sysv", "initramfs-tools", "zstd", "iproute2", "procps", "openssh-server", "busybox", "kmod", "openssl", "linux-image-cloud-amd64"]


def published(name: str) -> dict[str, Any]:
    return dict(json.loads(SERVER.file(f"/root/{name}").content_string))


@pytest.fixture(scope="module")
def first() -> dict[str, Any]:
    return published("rootfs_published.json")


@pytest.fixture(scope="module")
def second() -> dict[str, Any]:
    return published("rootfs_published_second.json")


@pytest.fixture(scope="module", params=["first", "second"])
def version(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each built version (as the role published it)."""
    return dict(request.getfixturevalue(request.param))


def recipe(version: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(SERVER.file(f"{version['path']}/recipe.json").content_string))


def in_image(version: dict[str, Any], command: str) -> str:
    return SERVER.check_output(f"chroot {version['root']} {command}")


# --------------------------------------------------------------------------- versions and publication


def test_version_is_named_by_the_hash_of_its_recipe(version: dict[str, Any]) -> None:
    """The documented version: the first 12 hex digits of the SHA-256 of the recipe as sorted JSON."""
    written = recipe(version)
    content = {key: value for key, value in written.items() if key != "version"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]
    assert written["version"] == version["version"] == digest
    assert version["path"] == f"{IMAGE_DIR}/{digest}"
    assert version["root"] == f"{IMAGE_DIR}/{digest}/root"


def test_recipe_names_the_packages_and_settings(first: dict[str, Any], second: dict[str, Any]) -> None:
    one, two = recipe(first), recipe(second)
    assert one["packages"] == two["packages"] == BASE_PACKAGES
    assert (one["timezone"], two["timezone"]) == ("Europe/Paris", "Etc/UTC")
    assert first["version"] != second["version"]


def test_build_script_and_log_are_kept_with_the_version(version: dict[str, Any]) -> None:
    script = SERVER.file(f"{version['path']}/build.sh")
    assert script.is_file and script.mode == 0o755
    assert f"version {version['version']}" in script.content_string
    log = SERVER.file(f"{version['path']}/build.log").content_string
    assert log.rstrip().splitlines()[-1].startswith("I: success in "), log[-2000:]


def test_current_points_to_the_newest_version(second: dict[str, Any]) -> None:
    current = SERVER.file(f"{IMAGE_DIR}/current")
    assert current.is_symlink
    assert current.linked_to == second["path"]
    assert SERVER.check_output(f"readlink {IMAGE_DIR}/current") == second["version"], "a relative link: the store can move"


def test_older_versions_beyond_the_kept_one_are_pruned(first: dict[str, Any], second: dict[str, Any]) -> None:
    """keep 1: the current version and the newest other one (the first build) stay; the older ones and the stale staging go."""
    entries = sorted(SERVER.file(IMAGE_DIR).listdir())
    assert entries == sorted([first["version"], second["version"], "current"])


# --------------------------------------------------------------------------- the image


def test_image_has_the_base_packages_and_a_kernel(version: dict[str, Any]) -> None:
    installed = set(in_image(version, "dpkg-query --show --showformat '${Package}\\n'").split())
    assert set(BASE_PACKAGES) <= installed, set(BASE_PACKAGES) - installed
    kernels = [name for name in SERVER.file(f"{version['root']}/boot").listdir() if name.startswith("vmlinuz-")]
    assert len(kernels) == 1 and kernels[0].endswith("-cloud-amd64"), kernels
    assert SERVER.file(f"{version['root']}/boot/initrd.img-{kernels[0].removeprefix('vmlinuz-')}").is_file


def test_image_has_no_identity(version: dict[str, Any]) -> None:
    root = version["root"]
    host_keys = SERVER.check_output(f"find {root}/etc/ssh -name 'ssh_host_*'")
    assert host_keys == "", host_keys
    assert SERVER.file(f"{root}/etc/ssh/sshd_config").exists, "sshd is in the image, only its keys are not"
    machine_id = SERVER.file(f"{root}/etc/machine-id")
    assert machine_id.is_file and machine_id.size == 0
    assert not SERVER.file(f"{root}/var/lib/dbus/machine-id").exists
    assert SERVER.file(f"{root}/etc/hostname").content_string == "localhost\n"


def test_image_has_no_secrets(version: dict[str, Any]) -> None:
    root = version["root"]
    shadow = SERVER.file(f"{root}/etc/shadow").content_string
    unlocked = [line for line in shadow.splitlines() if not line.split(":")[1].startswith(("!", "*"))]
    assert unlocked == [], unlocked
    private = SERVER.run(f"grep -rlE 'PRIVATE KEY' {root}/etc {root}/root {root}/home")
    assert private.stdout == "", private.stdout


def test_users_with_locked_passwords_and_their_keys(version: dict[str, Any]) -> None:
    root = version["root"]
    assert in_image(version, "getent passwd ops").split(":")[2:] == ["1001", "1001", "", "/home/ops", "/bin/bash"]
    assert "ops" in in_image(version, "getent group adm").split(":")[3].split(",")
    assert in_image(version, "passwd --status ops").split()[1] == "L"
    ssh_dir = SERVER.file(f"{root}/home/ops/.ssh")
    keys = SERVER.file(f"{root}/home/ops/.ssh/authorized_keys")
    assert (ssh_dir.uid, ssh_dir.mode, keys.uid, keys.mode) == (1001, 0o700, 1001, 0o600)
    assert keys.content_string == OPS_KEY + "\n"
    root_keys = SERVER.file(f"{root}/root/.ssh/authorized_keys")
    assert (root_keys.uid, root_keys.mode, root_keys.content_string) == (0, 0o600, ROOT_KEY + "\n")


def test_time_zone_and_masked_units(first: dict[str, Any], second: dict[str, Any]) -> None:
    for version, zone in ((first, "Europe/Paris"), (second, "Etc/UTC")):
        root = version["root"]
        assert SERVER.check_output(f"readlink {root}/etc/localtime") == f"/usr/share/zoneinfo/{zone}"
        assert SERVER.file(f"{root}/etc/timezone").content_string == f"{zone}\n"
        for unit in ("e2scrub_reap.service", "e2scrub_all.timer"):
            assert SERVER.check_output(f"readlink {root}/etc/systemd/system/{unit}") == "/dev/null"
