# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side helper: turn Ansible's lazy hostvars into plain data for the inventory model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory import GROUPS


def model_input(hostvars: Mapping[str, Any], groups: Mapping[str, Sequence[str]]) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Only the `dc_*` variables of hosts in the datacenter groups: the model needs nothing else."""
    plain_groups = {name: list(groups.get(name, [])) for name in GROUPS}
    members = sorted({host for hosts in plain_groups.values() for host in hosts})
    plain_vars: dict[str, dict[str, Any]] = {}
    for host in members:
        vars_ = hostvars[host]
        plain_vars[host] = {key: vars_[key] for key in vars_ if isinstance(key, str) and key.startswith("dc_")}
    return plain_vars, plain_groups
