"""The collection builds into a tarball that installs and whose plugins Ansible can load."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from tests.support.playbook import REPO, VENV_BIN


def test_build_install_and_load(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(REPO)], check=True, capture_output=True)
    tarballs = list(dist.glob("diskless-datacenter-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tarball:
        names = set(tarball.getnames())
    assert "plugins/modules/validate_inventory.py" in names
    assert "roles/dnsmasq/meta/argument_specs.yml" in names
    assert not any(name.startswith(("tests/", ".venv", ".build", "extensions/", "benchmarks/")) for name in names)

    installed = tmp_path / "collections"
    subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--force", "-p", str(installed), str(tarballs[0])],
        check=True,
        capture_output=True,
    )
    doc = subprocess.run(
        [str(VENV_BIN / "ansible-doc"), "diskless.datacenter.validate_inventory"],
        capture_output=True,
        text=True,
        check=True,
        env={"ANSIBLE_COLLECTIONS_PATH": str(installed), "PATH": str(VENV_BIN), "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    assert str(installed) in doc.stdout
