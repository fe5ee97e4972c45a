"""Role nfs_server: both implementations rendered from the same exports, and the input checks.

Fast (no NFS server started): the kernel server cannot run here (no nfsd in this kernel), so its
/etc/exports file is rendered and read, line by line, in exports(5) syntax; the NFS-Ganesha file is
rendered the same way (the end-to-end test runs Ganesha for real). Rendering uses the role's own
defaults, vars and templates through Ansible's template module.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.playbook import ROLES, role_task, run_play

EXPORTS = [
    {"path": "/srv/diskless/images/deb/0123456789ab/root", "clients": [{"address": "10.42.65.0/24", "access": "ro"}]},
    {"path": "/srv/diskless/hosts/node1/etc", "clients": [{"address": "10.42.65.11", "access": "rw"}]},
    {"path": "/srv/diskless/hosts/node2/etc", "clients": [{"address": "10.42.65.12", "access": "rw", "root_squash": True}]},
]


def render_tasks(directory: Path, exports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    role = ROLES / "nfs_server"
    return [
        {"name": "defaults", "ansible.builtin.include_vars": {"file": str(role / "defaults" / "main.yml")}},
        {"name": "vars", "ansible.builtin.include_vars": {"file": str(role / "vars" / "main.yml")}},
        {"name": "exports", "ansible.builtin.set_fact": {"nfs_server_exports": exports}},
        *(
            {
                "name": f"render {template}",
                "ansible.builtin.template": {"src": str(role / "templates" / template), "dest": str(directory / template.removesuffix(".j2")), "mode": "0644"},
            }
            for template in ("exports.j2", "ganesha.conf.j2")
        ),
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp_path = tmp_path_factory.mktemp("nfs")
    result = run_play(tmp_path, render_tasks(tmp_path, EXPORTS))
    assert not result["failed"], result["msg"]
    return {name: (tmp_path / name).read_text() for name in ("exports", "ganesha.conf")}


def test_kernel_exports_follow_exports5(rendered: dict[str, str]) -> None:
    lines = [line for line in rendered["exports"].splitlines() if line and not line.startswith("#")]
    assert len(lines) == 3
    parsed = {}
    for line in lines:
        match = re.fullmatch(r'"(?P<path>/[^"]+)" (?P<clients>\S+\(\S+\)( \S+\(\S+\))*)', line)
        assert match, line
        parsed[match["path"]] = dict(re.findall(r"(\S+)\((\S+)\)", match["clients"]))
    image = parsed["/srv/diskless/images/deb/0123456789ab/root"]["10.42.65.0/24"].split(",")
    assert image[:2] == ["ro", "no_root_squash"] and "no_subtree_check" in image
    node1 = parsed["/srv/diskless/hosts/node1/etc"]
    assert list(node1) == ["10.42.65.11"] and node1["10.42.65.11"].startswith("rw,no_root_squash")
    assert parsed["/srv/diskless/hosts/node2/etc"]["10.42.65.12"].startswith("rw,root_squash")
    fsids = [re.search(r"fsid=(\d+)", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert len(set(fsids)) == 3


def ganesha_exports(text: str) -> list[dict[str, Any]]:
    """EXPORT blocks of a rendered ganesha.conf: path, ID and (clients, access, squash) per CLIENT."""
    blocks = re.findall(r"^EXPORT \{\n(.*?)^\}", text, flags=re.S | re.M)
    exports = []
    for block in blocks:
        clients = re.findall(r"CLIENT \{\s*Clients = (\S+);\s*Access_Type = (\w+);\s*Squash = (\w+);\s*\}", block)
        exports.append(
            {
                "path": re.search(r'Path = "([^"]+)";', block).group(1),  # type: ignore[union-attr]
                "id": int(re.search(r"Export_Id = (\d+);", block).group(1)),  # type: ignore[union-attr]
                "protocols": re.search(r"Protocols = ([\d, ]+);", block).group(1),  # type: ignore[union-attr]
                "clients": clients,
            }
        )
    return exports


def test_ganesha_exports_carry_the_same_access(rendered: dict[str, str]) -> None:
    text = rendered["ganesha.conf"]
    assert text.count("{") == text.count("}")
    assert "Protocols = 3, 4;" in text.split("EXPORT_DEFAULTS")[0]  # NFSv3 for initramfs-tools' nfsmount
    exports = {e["path"]: e for e in ganesha_exports(text)}
    assert set(exports) == {e["path"] for e in EXPORTS}
    assert exports["/srv/diskless/images/deb/0123456789ab/root"]["clients"] == [("10.42.65.0/24", "RO", "No_Root_Squash")]
    assert exports["/srv/diskless/hosts/node1/etc"]["clients"] == [("10.42.65.11", "RW", "No_Root_Squash")]
    assert exports["/srv/diskless/hosts/node2/etc"]["clients"] == [("10.42.65.12", "RW", "Root_Squash")]
    assert all(e["protocols"] == "3, 4" for e in exports.values())
    assert len({e["id"] for e in exports.values()}) == 3 and all(0 < e["id"] < 65536 for e in exports.values())


def test_export_ids_do_not_move_when_exports_are_added(rendered: dict[str, str], tmp_path: Path) -> None:
    """A client's file handles carry the export ID: adding an export must not renumber the others."""
    more = [*EXPORTS, {"path": "/srv/diskless/hosts/node0/etc", "clients": [{"address": "10.42.65.10", "access": "rw"}]}]
    result = run_play(tmp_path, render_tasks(tmp_path, list(reversed(more))))
    assert not result["failed"], result["msg"]
    before = {e["path"]: e["id"] for e in ganesha_exports(rendered["ganesha.conf"])}
    after = {e["path"]: e["id"] for e in ganesha_exports((tmp_path / "ganesha.conf").read_text())}
    assert {path: after[path] for path in before} == before


def test_bad_exports_are_reported_at_once_before_any_change(tmp_path: Path) -> None:
    bad = [
        {"path": "/etc", "clients": [{"address": "10.42.65.0/24"}]},
        {"path": "/srv/diskless/../../etc", "clients": [{"address": "10.42.65.0/24"}]},
        {"path": "/srv/diskless/hosts/a/etc", "clients": [{"address": "everyone", "access": "rw"}]},
        {"path": "/srv/diskless/hosts/b/etc", "clients": []},
        {"path": "/srv/diskless/hosts/b/etc", "clients": [{"address": "10.42.65.12"}]},
    ]
    result = run_play(tmp_path, [role_task("nfs_server", "preflight.yml", nfs_server_exports=bad)])
    assert result["failed"]
    for needle in [
        "nfs_server_exports[0]: path=/etc: outside the exportable trees /srv/diskless",
        "nfs_server_exports[1]: path=/srv/diskless/../../etc: an absolute path without spaces, . or ..",
        "nfs_server_exports[2]: clients[0]: address=everyone",
        "nfs_server_exports[3]: clients=[]",
        "path=/srv/diskless/hosts/b/etc: exported more than once",
    ]:
        assert needle in result["msg"]


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    exports = [{"path": str(tmp_path / "nowhere"), "clients": [{"address": "10.0.0.1", "access": "rw"}]}]
    result = run_play(tmp_path, [role_task("nfs_server", "preflight.yml", nfs_server_exports=exports, nfs_server_export_roots=[str(tmp_path)])])
    assert result["failed"]
    assert f"exported paths that are not directories: {tmp_path / 'nowhere'}" in result["msg"]
