# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter `datacenter_model`: the normalised inventory model every layer playbook reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from ansible.errors import AnsibleFilterError
from ansible_collections.diskless.datacenter.plugins.plugin_utils._boot_values import (
    CONFIG_VALUE_MAX,
    FIELD_FORBIDDEN,
    KERNEL_CMDLINE_MAX,
    config_value_problem,
    config_value_problems,
    kernel_params_problem,
    one_line_problem,
)
from ansible_collections.diskless.datacenter.plugins.plugin_utils._hostvars import model_input
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory import build_model
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory_values import InventoryError

DOCUMENTATION = r"""
name: datacenter_model
author: Diskless Datacenter maintainers (@diskless-datacenter)
version_added: 0.1.0
short_description: Validate the datacenter inventory and return its normalised model
description:
  - Reads the C(dc_*) variables of every host in the groups C(rds), C(boot_servers), C(dpus) and C(diskless_hosts),
    validates them (see M(diskless.datacenter.validate_inventory)) and returns one normalised model.
  - Fails listing every problem, each naming host, field and value.
options:
  _input:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  groups:
    description: The C(groups) magic variable.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the address of every diskless host on the boot VLAN
  ansible.builtin.debug:
    msg: "{{ (hostvars | diskless.datacenter.datacenter_model(groups)).boot_reservations }}"
"""

RETURN = r"""
_value:
  description: >-
    The model. Keys C(domain), C(vlans) (id, name, subnet, prefixlen, netmask, gateway, dhcp_range),
    C(vlan_roles) (mgmt, boot, control, storage to VLAN ID), C(boot_vlan), C(hosts) (per host name: group,
    hostname, macs, addresses per VLAN ID, and for diskless hosts dpu, rshim, boot_image, kernel_params; for
    DPUs host and ports), C(groups), C(boot_reservations) (name, hostname, mac, ip, tags, boot_image,
    kernel_params) and C(nvme_exports).
  type: dict
"""


def datacenter_model(hostvars: Mapping[str, Any], groups: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    plain_vars, plain_groups = model_input(hostvars, groups)
    try:
        return build_model(plain_vars, plain_groups)
    except InventoryError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def kernel_params_problem_filter(value: Any, max_length: int = KERNEL_CMDLINE_MAX) -> str:
    """Why VALUE may not be written into a boot script as kernel parameters; '' when it may.

    The rule of the inventory validation, for the netboot role's preflight (one definition).
    """
    return kernel_params_problem(value, int(max_length))


def kernel_cmdline(value: Any) -> str:
    """Return VALUE, a whole kernel command line for a boot script; fail when it breaks the kernel parameter rule."""
    why = kernel_params_problem(value)
    if why:
        raise AnsibleFilterError(f"kernel command line {value!r}: {why}")
    return cast(str, value)  # kernel_params_problem refuses anything but a string; the value itself (unsafe or not) is kept


def one_line(value: Any) -> str:
    """Return VALUE as a string; fail when it would start a new line (or carry any control character) in a boot script."""
    text = str(value)
    why = one_line_problem(text)
    if why:
        raise AnsibleFilterError(f"value {text!r} cannot be written into a boot script: {why}")
    return text


def config_value_problems_filter(values: Any, forbidden: str = "", max_length: int = CONFIG_VALUE_MAX, ascii_only: bool = False, where: str = "") -> list[str]:
    """Every problem of VALUES (variable name -> value) as one field of a config file or script.

    FORBIDDEN is a file format of FIELD_FORBIDDEN (dnsmasq, exports, ganesha, systemd, shell, line) or the
    characters themselves. One message per bad value, 'NAME=JSON: why'; [] when every value may be written.
    The rule of plugin_utils/_boot_values.py, for the roles' preflights (one definition).
    """
    return config_value_problems(values, forbidden, int(max_length), bool(ascii_only), where)


def config_value(value: Any, forbidden: str = "", max_length: int = CONFIG_VALUE_MAX, name: str = "value") -> Any:
    """Return VALUE; fail naming NAME when it cannot be written as one field of a config file (see config_value_problems)."""
    why = config_value_problem(value, FIELD_FORBIDDEN.get(forbidden, forbidden), int(max_length))
    if why:
        raise AnsibleFilterError(f"{name}={value!r} cannot be written into the file: {why}")
    return value


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "datacenter_model": datacenter_model,
            "kernel_params_problem": kernel_params_problem_filter,
            "kernel_cmdline": kernel_cmdline,
            "one_line": one_line,
            "config_value_problems": config_value_problems_filter,
            "config_value": config_value,
        }
