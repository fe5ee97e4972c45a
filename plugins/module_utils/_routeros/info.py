# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain: information (routeros_info), in exactly the shape the other modules take as input."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Reader, owned_rows
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import GATHER_SUBSET
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.netboot import netboot_state, tftp_state
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.nvme import nvme_exports_state, rose_storage_installed
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.paths import BRIDGE, DHCP_SERVER, PACKAGE, RESOURCE
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.vlan import vlan_state

# "all" stands for every other subset.
INFO_SUBSETS = tuple(name for name in GATHER_SUBSET.choices if name != "all")


def gather_info(reader: Reader, subsets: Iterable[str]) -> dict[str, Any]:
    """Version, board and packages, and the state of every managed path in the modules' input shape."""
    wanted = set(subsets)
    if "all" in wanted:
        wanted = set(INFO_SUBSETS)
    result: dict[str, Any] = {}
    if "system" in wanted:
        resources = reader.read(RESOURCE)
        resource = resources[0].values if resources else {}
        packages = reader.read(PACKAGE)
        result.update(
            version=resource.get("version"),
            board=resource.get("board-name"),
            architecture=resource.get("architecture-name"),
            packages=sorted(
                ({"name": row.values["name"], "version": row.values["version"], "disabled": row.values["disabled"]} for row in packages),
                key=lambda p: str(p["name"]),
            ),
            rose_storage=rose_storage_installed(reader),
        )
    if "vlan" in wanted:
        result["bridges"] = [vlan_state(reader, str(row.values["name"])) for row in owned_rows(reader.read(BRIDGE))]
    if "netboot" in wanted:
        result["netboot"] = [netboot_state(reader, str(row.values["name"])) for row in owned_rows(reader.read(DHCP_SERVER))]
        result["tftp"] = tftp_state(reader)
    if "nvme" in wanted:
        result["nvme_exports"] = nvme_exports_state(reader) if rose_storage_installed(reader) else []
    return result
